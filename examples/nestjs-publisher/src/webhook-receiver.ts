import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, WebhookVerificationError, type SignatureScheme, type VerifiedWebhook } from '@hookhub/sdk';

/** The full-format event a subscription receives (the fields the example reads). */
export interface WebhookEvent {
  id: string;
  type: string;
  model_id: string;
  model: Record<string, unknown> | null;
}

/**
 * A webhook endpoint on 127.0.0.1: verifies each request's signature over
 * the raw body before reading it, answers 401 to what does not verify and
 * 204 to what does, and hands the verified events to whoever waits.
 */
export class WebhookReceiver {
  private server?: Server;
  private readonly verified: VerifiedWebhook<WebhookEvent>[] = [];
  private readonly waiters: Array<() => void> = [];
  /** Requests refused, with why: a correct setup has none. */
  readonly refused: string[] = [];

  constructor(
    private readonly secret: string,
    private readonly scheme: SignatureScheme,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const status = this.receive(Buffer.concat(chunks), req.headers);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/hookhub`;
  }

  private receive(rawBody: Buffer, headers: IncomingHttpHeaders): number {
    try {
      this.verified.push(verifyWebhook<WebhookEvent>(rawBody, headers, this.secret, { scheme: this.scheme }));
      this.waiters.splice(0).forEach((wake) => wake());
      return 204;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      this.refused.push(err.code);
      return 401;
    }
  }

  /** The verified webhook of event `eventId`, once it arrives. */
  async waitFor(eventId: string, timeoutMs: number): Promise<VerifiedWebhook<WebhookEvent>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.verified.find((w) => w.payload.id === eventId);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no verified webhook for event ${eventId} within ${timeoutMs} ms (refused: ${this.refused.join(', ') || 'none'})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
