import { createHmac } from 'node:crypto';
import { ApiClient } from '../support/hub';
import { AppProcess, buildApp, startAppProcess, stopProcess } from '../support/processes';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { eventually } from '../support/eventually';
import { gupshupMessageEvent, gupshupRequest, metaHandshakeRequest, signTwilioForm } from '@hookhub/testing';
import { send } from '../support/ingest';

describe('secrets stay out of logs', () => {
  let env: TestEnvironment;
  let receiver: TestReceiver;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment();
    receiver = await new TestReceiver().start();
    // Debug level: the most a misconfigured pod would print.
    const config = env.config({ LOG_LEVEL: 'debug' });
    apps.push(await startAppProcess(buildApp('subscriptions'), config, 'SUBSCRIPTIONS_PORT'));
    apps.push(await startAppProcess(buildApp('dispatcher'), config, 'DISPATCHER_PORT'));
    apps.push(await startAppProcess(buildApp('provider-ingest'), config, 'PROVIDER_INGEST_PORT'));
  });
  afterAll(async () => {
    for (const a of apps) await stopProcess(a);
    await receiver.stop();
    await env.teardown();
  });

  it('prints neither signing secrets, API keys, the admin token nor custom header values', async () => {
    const api = new ApiClient(`http://127.0.0.1:${apps[0].port}`, env.adminToken);
    const tenant = await api.createTenant();
    const secret = 'log-probe-secret-0123456789';
    const header = 'log-probe-header-value';
    const sub = await api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}/logs`, event_types: ['ticket.created'], secret, headers: { 'X-Receiver-Token': header } },
    });
    expect(sub.status).toBe(201);
    const rotated = await api.request<{ secret: string }>('POST', `/v1/subscriptions/${sub.body.id}/rotate-secret`, { token: tenant.adminKey, body: {} });
    expect((await api.request('POST', `/v1/subscriptions/${sub.body.id}/test`, { token: tenant.adminKey })).status).toBe(200);
    expect(
      (await api.request('POST', '/v1/subscriptions', { token: tenant.adminKey, body: { url: 'https://10.0.0.1/x', event_types: ['*'], secret } })).status,
    ).toBe(422);
    const res = await api.request('POST', '/v1/events', {
      token: tenant.adminKey,
      body: { id: 'e1', type: 'ticket.created', model_id: 't', model: { id: 't' } },
    });
    expect(res.status).toBe(202);
    await receiver.waitFor(2);
    const delivered = receiver.requests[1];
    expect(String(delivered.headers['x-webhook-signature'])).toContain(createHmac('sha256', rotated.body.secret).update(delivered.raw).digest('hex'));
    await eventually(() => expect(apps[0].output.join('')).toContain('/v1/events'));

    const logs = apps.map((a) => a.output.join('')).join('\n');
    expect(logs.length).toBeGreaterThan(1_000);
    for (const value of [secret, rotated.body.secret, tenant.adminKey, env.adminToken, header, env.encryptionKey]) {
      expect(logs).not.toContain(value);
    }
  });

  it('prints no provider credentials: auth tokens, verify tokens, custom header values', async () => {
    const api = new ApiClient(`http://127.0.0.1:${apps[0].port}`, env.adminToken);
    const tenant = await api.createTenant('ingest-logs');
    const ingestBase = `http://127.0.0.1:${apps[2].port}`;
    const connect = async (provider: string, credentials: Record<string, string>): Promise<string> => {
      const res = await api.request<{ ingest_path: string }>('POST', '/v1/provider-connections', { token: tenant.adminKey, body: { provider, credentials } });
      expect(res.status).toBe(201);
      return ingestBase + res.body.ingest_path;
    };
    const authToken = 'log-probe-twilio-token-42';
    const verifyToken = 'log-probe-meta-verify-token';
    const appSecret = 'log-probe-meta-app-secret';
    const headerValue = 'Bearer log-probe-gupshup-header';
    const twilio = await connect('twilio_sms', { auth_token: authToken });
    const meta = await connect('meta_whatsapp', { app_secret: appSecret, verify_token: verifyToken });
    const gupshup = await connect('gupshup', { header_name: 'X-Gupshup-Token', header_value: headerValue });

    expect((await send(signTwilioForm(twilio, { MessageSid: 'SMlog', MessageStatus: 'sent' }, { auth_token: authToken }))).status).toBe(200);
    expect((await send(signTwilioForm(twilio, { MessageSid: 'SMlog', MessageStatus: 'sent' }, { auth_token: 'wrong' }))).status).toBe(401);
    expect((await send(metaHandshakeRequest(meta, { verifyToken, challenge: '42' }))).status).toBe(200);
    expect((await send(metaHandshakeRequest(meta, { verifyToken: `${verifyToken}-wrong`, challenge: '42' }))).status).toBe(403);
    const event = gupshupMessageEvent({ type: 'sent', gupshupId: 'gs-log', whatsappId: 'wamid.log', destination: '1', timestamp: Date.now() });
    expect((await send(gupshupRequest(gupshup, event, { name: 'X-Gupshup-Token', value: headerValue }))).status).toBe(200);
    expect((await send(gupshupRequest(gupshup, event, { name: 'X-Gupshup-Token', value: `${headerValue}-wrong` }))).status).toBe(401);
    await eventually(() => expect(apps[2].output.join('')).toContain('provider callback rejected'));

    const logs = apps.map((a) => a.output.join('')).join('\n');
    for (const value of [authToken, verifyToken, appSecret, headerValue, 'log-probe-gupshup-header']) {
      expect(logs).not.toContain(value);
    }
  });
});
