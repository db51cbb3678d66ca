import { JETSTREAM_SETTINGS, EVENTS_CONSUMER, JetstreamSettings, RETRIES_CONSUMER } from '@hookhub/jetstream';
import { runApp } from '@hookhub/platform';
import { buildDispatcherApp } from './build-dispatcher-app';
import { DispatcherConfig } from './dispatcher.config';

void runApp({
  service: 'dispatcher',
  config: DispatcherConfig,
  portVariable: 'DISPATCHER_PORT',
  build: () => buildDispatcherApp(),
  ready: (url, app) => {
    const { subjects } = app.get<JetstreamSettings>(JETSTREAM_SETTINGS);
    return `consuming ${subjects.eventsStream} as ${EVENTS_CONSUMER} and ${subjects.retriesStream} as ${RETRIES_CONSUMER}, metrics on ${url}/metrics, health on ${url}/readyz`;
  },
});
