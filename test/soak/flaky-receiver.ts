import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Ledger, Receipt, ReceiverMood } from './ledger';
import type { SeededRandom } from './seeded-random';

/**
 * A webhook receiver on a fixed loopback port whose mood changes over time:
 * it answers 200 at once, fails (500), answers slowly (within the hub's
 * timeout), or hangs (never answers). It can go away (port closed,
 * connections reset) and come back on the same port. Every request is
 * written to the ledger with how it was answered.
 */
export class FlakyReceiver {
  mood: ReceiverMood = 'ok';
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private moodTimer?: NodeJS.Timeout;
  /** Slow answers' delays depend on arrivals, so they draw from a stream of their own and leave the moods' reproducible. */
  private readonly delays: SeededRandom;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly ledger: Ledger,
    private readonly random: SeededRandom,
    /** Slow answers stay below the hub's per-attempt timeout. */
    private readonly slowMs: [number, number],
  ) {
    this.delays = random.fork(1);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return !!this.server?.listening;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Gone: the port refuses connections and every open one (hanging requests included) is reset. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Changes mood every 4–15 s: mostly fine, sometimes failing, slow or hanging. */
  startMoods(): void {
    const next = (): void => {
      this.mood = this.random.weighted<ReceiverMood>([
        ['ok', 70],
        ['fail', 12],
        ['slow', 12],
        ['hang', 6],
      ]);
      this.moodTimer = setTimeout(next, this.random.int(4_000, 15_000));
    };
    next();
  }

  /** Back to answering 200 at once, for the quiet period. */
  calm(): void {
    clearTimeout(this.moodTimer);
    this.mood = 'ok';
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string): string => String(req.headers[name] ?? '');
      let eventId: string | null = null;
      try {
        const parsed = JSON.parse(body) as { id?: unknown };
        eventId = typeof parsed.id === 'string' ? parsed.id : null;
      } catch {
        /* not JSON: recorded as is */
      }
      // Requests without a delivery id (a verification challenge) are not deliveries.
      if (!header('x-webhook-delivery')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
        return;
      }
      const version = header('x-webhook-resource-version');
      const receipt: Receipt = {
        receiver: this.name,
        path: (req.url ?? '').split('?')[0],
        deliveryId: header('x-webhook-delivery'),
        subscriptionId: header('x-webhook-subscription'),
        attempt: Number(header('x-webhook-attempt')),
        resourceVersion: version ? Number(version) : null,
        eventId,
        body,
        arrivedAt: Date.now(),
        mood: this.mood,
        status: null,
        answeredAt: null,
      };
      this.ledger.receipts.push(receipt);
      const answer = (status: number): void => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'failing');
        receipt.status = status;
        receipt.answeredAt = Date.now();
      };
      switch (receipt.mood) {
        case 'ok':
          return answer(200);
        case 'fail':
          return answer(500);
        case 'slow':
          setTimeout(() => answer(200), this.delays.int(...this.slowMs));
          return;
        case 'hang':
          return; // the hub's timeout ends it, or close() resets it
      }
    });
  }
}
