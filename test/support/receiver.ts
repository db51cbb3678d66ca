import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received, for signature checks. */
  raw: Buffer;
  json(): unknown;
  receivedAt: number;
}

export interface ReceiverReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

export type Responder = (req: ReceivedRequest, index: number) => ReceiverReply | Promise<ReceiverReply>;

/** A real HTTP endpoint on loopback that records every request it gets. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server?: Server;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  respond: Responder = () => ({ status: 200, body: 'ok' });

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const received: ReceivedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          raw,
          json: () => JSON.parse(raw.toString('utf8')),
          receivedAt: Date.now(),
        };
        const index = this.requests.push(received) - 1;
        this.notify();
        // A responder that throws resets the connection, as a crashing receiver would.
        this.reply(res, received, index).catch((err: unknown) => res.destroy(err as Error));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  private async reply(res: ServerResponse, received: ReceivedRequest, index: number): Promise<void> {
    const reply = await this.respond(received, index);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
    res.end(reply.body ?? '');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` requests have arrived; fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 15_000): Promise<ReceivedRequest[]> {
    if (this.requests.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${this.requests.length} of ${count} requests within ${timeoutMs} ms`)), timeoutMs);
        this.waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    }
    return this.requests;
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.requests.length >= w.count) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
