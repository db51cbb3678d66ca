import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { JETSTREAM_SETTINGS, JetstreamSettings } from '@hookhub/jetstream';
import { buildDispatcherApp } from '../../apps/dispatcher/src/build-dispatcher-app';
import { buildProviderIngestApp } from '../../apps/provider-ingest/src/build-provider-ingest-app';
import { buildSubscriptionsApp } from '../../apps/subscriptions/src/build-subscriptions-app';
import { testLogFile } from '../support/test-logs';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const BUILDERS: Record<string, (overrides: Record<string, string | number | boolean>) => Promise<NestExpressApplication>> = {
  subscriptions: buildSubscriptionsApp,
  dispatcher: buildDispatcherApp,
  'provider-ingest': buildProviderIngestApp,
};

/** Operators tell the apps apart by the `service` field of their log lines and by their NATS connection names. */
describe('each app is named after itself', () => {
  let env: TestEnvironment;

  beforeAll(async () => {
    env = await createTestEnvironment();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it.each(Object.keys(BUILDERS))('%s: its log lines and its NATS connection carry its name', async (name) => {
    const logFile = testLogFile(`names-${name}`);
    const app = await BUILDERS[name](env.config({ LOG_LEVEL: 'info', LOG_DESTINATION: logFile }));
    try {
      await app.listen(0, '127.0.0.1');
      expect(app.get<JetstreamSettings>(JETSTREAM_SETTINGS).connectionName).toBe(name);
      await fetch(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/no-such-route`);
    } finally {
      await app.close();
    }
    const requestLines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('/no-such-route'))
      .map((l) => JSON.parse(l) as { service?: string });
    expect(requestLines.length).toBeGreaterThan(0);
    expect(requestLines.every((l) => l.service === name)).toBe(true);
  });
});
