import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { RunningHub, startHub } from '../support/hub';
import type { INestApplication } from '@nestjs/common';
import { buildProviderIngestApp } from '../../apps/provider-ingest/src/build-provider-ingest-app';
import { ReceivedRequest, TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * The README's code, run as written: the walk-through's shell block against the apps, and the
 * verification functions of "Verifying webhooks" against real deliveries of each scheme, during a
 * secret rotation too. Blocks are found by the `<!-- readme-test: … -->` comment before them.
 */

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The fenced block right after `<!-- readme-test: <name> -->`. */
function block(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(README);
  if (!match) throw new Error(`README.md has no block marked readme-test: ${name}`);
  return match[1];
}

type Verify = (rawBody: Buffer, headers: IncomingHttpHeaders, secret: string) => boolean;

/** Evaluates a README block that declares `fn`, with Node's require, and returns that function. */
function readmeFunction(name: string, fn: string): Verify {
  return new Function('require', `${block(name)}\nreturn ${fn};`)(require) as Verify;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

const hmacHex = (secret: string, body: Buffer): string => createHmac('sha256', secret).update(body).digest('hex');

describe('README', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let ingest: INestApplication;
  let ingestPort: number;

  beforeAll(async () => {
    env = await createTestEnvironment();
    ingestPort = await freePort();
    // The walk-through reads ingest_url, which starts with INGEST_PUBLIC_URL.
    hub = await startHub(env, { INGEST_PUBLIC_URL: `http://127.0.0.1:${ingestPort}` });
    ingest = await buildProviderIngestApp(env.config({ PROVIDER_INGEST_PORT: ingestPort }));
    await ingest.listen(ingestPort, '127.0.0.1');
  });

  afterAll(async () => {
    await ingest?.close();
    await hub?.close();
    await env?.teardown();
  });

  it('the walk-through runs verbatim (only host, ports and admin token replaced) and shows what it says', async () => {
    const apiPort = (hub.subscriptions.getHttpServer().address() as AddressInfo).port;
    const receiverPort = await freePort();
    const script = block('walkthrough')
      .replace(/^ADMIN=dev-admin-token-change-me$/m, `ADMIN=${env.adminToken}`)
      .replace(/localhost:3000/g, `127.0.0.1:${apiPort}`)
      .replace(/127\.0\.0\.1:4000/g, `127.0.0.1:${receiverPort}`)
      .replace(/\.listen\(4000\)/g, `.listen(${receiverPort})`);
    expect(script).not.toMatch(/localhost:3000(?!\d)|127\.0\.0\.1:4000(?!\d)|listen\(4000\)|dev-admin-token/);

    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'bash',
        ['-e', '-o', 'pipefail', '-c', `trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${script}`],
        { timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`walk-through failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const received = output.split('\n').filter((line) => line.startsWith('>> '));
    const line = (path: string, type: string) => received.find((l) => l.startsWith(`>> ${path} ${type} `)) ?? '';

    // evt-1 signed with the first secret; after the rotation two signatures, new first.
    const first = line('/hook', 'ticket.created');
    const body1 = first.split(' ').slice(4).join(' ');
    expect(first.split(' ')[3]).toBe(`sha256=${hmacHex('my-webhook-secret-123', Buffer.from(body1))}`);
    const rotated = line('/hook', 'ticket.updated');
    const body2 = Buffer.from(rotated.split(' ').slice(4).join(' '));
    expect(rotated.split(' ')[3]).toBe(`sha256=${hmacHex('my-new-webhook-secret-456', body2)},sha256=${hmacHex('my-webhook-secret-123', body2)}`);
    // The thin notification, the snapshot it announces, and the provider callback's event.
    expect(line('/thin', 'ticket.created')).toContain('"resource":"/v0/tickets/t-2"');
    expect(output).toContain('{"id":"t-2","state":"open","subject":"Refund"}');
    expect(output).toContain('{"received":true,"duplicate":false}');
    expect(line('/hook', 'message.delivery_status')).toContain('"status":"delivered"');
    // The event as recorded, and the delivery with its attempts.
    expect(output).toMatch(/^\{"id":"evt-1","account_id":.*"model":\{"id":"t-1","state":"open","subject":"Help"\}\}$/m);
    expect(output).toMatch(/"event_id":"evt-1".*"attempts":\[\{/);
    expect(output).toContain('{"secret":"my-new-webhook-secret-456","previous_secret_expires_at"');
    // No request of the walk-through was refused.
    expect(output).not.toContain('application/problem+json');
    expect(output).not.toMatch(/"status":[45]\d\d/);
  });

  describe('Verifying webhooks: the code verifies real deliveries, before and during a rotation', () => {
    let receiver: TestReceiver;
    let key: string;
    let eventNo = 0;

    beforeAll(async () => {
      receiver = await new TestReceiver().start();
      key = (await hub.api.createTenant('Readme')).adminKey;
    });
    afterAll(async () => {
      await receiver?.stop();
    });

    /** Subscribes with `scheme`, delivers one event, rotates the secret, delivers another: both deliveries and both secrets. */
    async function deliveries(scheme: string, secret: string, newSecret: string): Promise<ReceivedRequest[]> {
      const path = `/${scheme}`;
      const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
        token: key,
        body: { url: receiver.url + path, event_types: ['ticket.*'], signature_scheme: scheme, secret },
      });
      expect(sub.status).toBe(201);
      const publish = async () => {
        const id = `evt-readme-${++eventNo}`;
        const res = await hub.api.request('POST', '/v1/events', { token: key, body: { id, type: 'ticket.created', model_id: id, model: { id } } });
        expect(res.status).toBe(202);
      };
      const arrived = () => receiver.requests.filter((r) => r.url === path);
      await publish();
      await waitUntil(() => arrived().length === 1);
      const rotated = await hub.api.request('POST', `/v1/subscriptions/${sub.body.id}/rotate-secret`, { token: key, body: { secret: newSecret } });
      expect(rotated.status).toBe(200);
      await publish();
      await waitUntil(() => arrived().length === 2);
      return arrived();
    }

    const cases: Array<[scheme: string, block: string, fn: string, header: string, secrets: [string, string, string]]> = [
      ['sha256', 'verify sha256', 'verifySha256', 'x-webhook-signature', ['readme-secret-one-123', 'readme-secret-two-456', 'readme-secret-bad-789']],
      ['enchant', 'verify enchant', 'verifyEnchant', 'enchant-signature', ['readme-secret-one-123', 'readme-secret-two-456', 'readme-secret-bad-789']],
      [
        'standard-webhooks',
        'verify standard-webhooks',
        'verifyStandardWebhook',
        'webhook-signature',
        [
          `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
          `whsec_${Buffer.alloc(32, 2).toString('base64')}`,
          `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
        ],
      ],
    ];

    it.each(cases)('%s', async (scheme, name, fn, header, [oldSecret, newSecret, otherSecret]) => {
      const verify = readmeFunction(name, fn);
      const [before, during] = await deliveries(scheme, oldSecret, newSecret);
      expect(String(during.headers[header]).split(scheme === 'standard-webhooks' ? ' ' : ',')).toHaveLength(2);

      expect(verify(before.raw, before.headers, oldSecret)).toBe(true);
      expect(verify(before.raw, before.headers, newSecret)).toBe(false);
      // During the overlap a receiver holding either secret verifies.
      expect(verify(during.raw, during.headers, newSecret)).toBe(true);
      expect(verify(during.raw, during.headers, oldSecret)).toBe(true);
      expect(verify(during.raw, during.headers, otherSecret)).toBe(false);
      // A changed body, a missing header, or another delivery's signature are refused.
      expect(verify(Buffer.concat([during.raw, Buffer.from(' ')]), during.headers, newSecret)).toBe(false);
      expect(verify(during.raw, { ...during.headers, [header]: undefined }, newSecret)).toBe(false);
      expect(verify(during.raw, { ...during.headers, [header]: before.headers[header] }, oldSecret)).toBe(false);
      if (scheme === 'standard-webhooks') {
        const stale = { ...during.headers, 'webhook-timestamp': String(Number(during.headers['webhook-timestamp']) - 600) };
        expect(verify(during.raw, stale, newSecret)).toBe(false);
        expect(verify(during.raw, { ...during.headers, 'webhook-timestamp': 'soon' }, newSecret)).toBe(false);
      }
    });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
