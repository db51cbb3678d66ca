import type { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { createServer as createHttpServer, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer } from 'node:net';
import { WebhookSender } from '@hookhub/delivery';
import { checkWebhookDestination, HostResolver } from '@hookhub/url-safety';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS server under the attacker's control: the first answer for a name is
 * public (it passes the check when the subscription is saved), every later
 * answer points at loopback (the connection the delivery would make).
 */
class RebindingDns {
  readonly lookups: string[] = [];

  constructor(
    private readonly first: string,
    private readonly later: string,
  ) {}

  private answer(hostname: string): string {
    this.lookups.push(hostname);
    return this.lookups.length === 1 ? this.first : this.later;
  }

  /** The promise-style resolver `checkWebhookDestination` takes. */
  readonly hostResolver: HostResolver = async (hostname) => [this.answer(hostname)];

  /** The `dns.lookup` the sender's agent calls at connect time; the sender always asks with `{ all: true }`. */
  readonly lookup = ((hostname: string, options: unknown, callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    const address = this.answer(hostname);
    const family = address.includes(':') ? 6 : 4;
    process.nextTick(() => (all ? cb(null, [{ address, family }]) : cb(null, address, family)));
  }) as unknown as typeof dnsLookup;
}

function listen<T extends HttpServer | TcpServer>(server: T): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: HttpServer | TcpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): { server: HttpServer; requests: string[] } {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  return { server, requests };
}

describe('URL safety at connect time', () => {
  describe('DNS rebinding', () => {
    let tcp: TcpServer;
    let port: number;
    let connections = 0;

    beforeAll(async () => {
      tcp = createTcpServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      port = await listen(tcp);
    });
    afterAll(() => close(tcp));

    it('refuses to connect when a name that passed the check now resolves to loopback', async () => {
      const dns = new RebindingDns('93.184.216.34', '127.0.0.1');
      const url = `https://hooks.example.com:${port}/x`;

      // Saving the subscription: the name resolves to a public address.
      const verdict = await checkWebhookDestination(url, { allowInsecureTargets: false, resolver: dns.hostResolver });
      expect(verdict.ok).toBe(true);

      // Delivering: the same name now resolves to the machine itself.
      const sender = new WebhookSender({ timeoutMs: 2000, allowInsecureTargets: false, connections: 4, resolver: dns.lookup });
      try {
        const result = await sender.send({ url, headers: { 'content-type': 'application/json' }, body: '{"id":"evt-1"}' });
        expect(result).toMatchObject({ ok: false, status: null, body: null });
        expect(result.error).toContain('non-public address 127.0.0.1');
        const ping = await sender.get(url, {});
        expect(ping.ok).toBe(false);
        expect(ping.error).toContain('non-public address 127.0.0.1');
      } finally {
        await sender.close();
      }
      expect(dns.lookups).toEqual(['hooks.example.com', 'hooks.example.com', 'hooks.example.com']);
      expect(connections).toBe(0);
    });

    it('applies the same guard with the promise-style hostResolver option', async () => {
      const resolver: HostResolver = async () => ['93.184.216.34', '10.0.0.5'];
      const sender = new WebhookSender({ timeoutMs: 2000, allowInsecureTargets: true, connections: 4, hostResolver: resolver });
      try {
        const result = await sender.send({ url: `http://hooks.example.com:${port}/x`, headers: {}, body: '{}' });
        expect(result.ok).toBe(false);
        expect(result.error).toContain('non-public address 10.0.0.5');
      } finally {
        await sender.close();
      }
      expect(connections).toBe(0);
    });
  });

  describe('with loopback HTTP servers (allowInsecureTargets)', () => {
    let sender: WebhookSender;
    const servers: HttpServer[] = [];

    beforeAll(() => {
      sender = new WebhookSender({ timeoutMs: 2000, allowInsecureTargets: true, connections: 4 });
    });
    afterAll(async () => {
      await sender.close();
      await Promise.all(servers.map(close));
    });

    it('does not follow redirects: a 302 is a failed attempt and the target gets nothing', async () => {
      const target = httpServer((_req, res) => res.end('should not be reached'));
      servers.push(target.server);
      const targetPort = await listen(target.server);
      const redirector = httpServer((_req, res) => {
        res.writeHead(302, { location: `http://127.0.0.1:${targetPort}/internal` }).end();
      });
      servers.push(redirector.server);
      const redirectorPort = await listen(redirector.server);

      const result = await sender.send({ url: `http://127.0.0.1:${redirectorPort}/hook`, headers: {}, body: '{}' });
      expect(result).toMatchObject({ ok: false, status: 302, error: 'endpoint answered 302' });
      expect(result.headers?.location).toBe(`http://127.0.0.1:${targetPort}/internal`);
      expect(redirector.requests).toEqual(['POST /hook']);

      const viaGet = await sender.get(`http://127.0.0.1:${redirectorPort}/verify`, {});
      expect(viaGet).toMatchObject({ ok: false, status: 302 });
      expect(redirector.requests).toEqual(['POST /hook', 'GET /verify']);
      expect(target.requests).toEqual([]);
    });

    it('get sends a GET with the given headers and keeps the first 4,096 bytes of the body', async () => {
      const body = Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      let seen: IncomingMessage | undefined;
      const endpoint = httpServer((req, res) => {
        seen = req;
        res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
      });
      servers.push(endpoint.server);
      const port = await listen(endpoint.server);

      const result = await sender.get(`http://127.0.0.1:${port}/verify?challenge=abc`, { 'X-Webhook-Subscription': 'sub-1' });
      expect(result).toMatchObject({ ok: true, status: 200, error: null });
      expect(result.body).toBe(body.slice(0, 4_096));
      expect(result.headers?.['content-type']).toBe('text/plain');
      expect(endpoint.requests).toEqual(['GET /verify?challenge=abc']);
      expect(seen?.headers['x-webhook-subscription']).toBe('sub-1');
      expect(seen?.headers['content-length']).toBeUndefined();
    });
  });
});
