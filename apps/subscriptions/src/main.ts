import { runApp } from '@hookhub/platform';
import { buildSubscriptionsApp } from './build-subscriptions-app';
import { SubscriptionsConfig } from './subscriptions.config';

void runApp({
  service: 'subscriptions',
  config: SubscriptionsConfig,
  portVariable: 'SUBSCRIPTIONS_PORT',
  build: () => buildSubscriptionsApp(),
  ready: (url) => `listening on ${url}, docs at ${url}/docs`,
});
