import { Worker } from 'node:worker_threads';
import { WebhookSender } from './webhook-sender';

/**
 * A loopback HTTP receiver on its own thread, so it answers while this
 * thread's event loop is blocked. It tells this thread when a request
 * arrives, then answers after `answerAfterMs`.
 */
class ThreadReceiver {
  private constructor(
    private readonly worker: Worker,
    readonly port: number,
  ) {}

  static async start(answerAfterMs: number): Promise<ThreadReceiver> {
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const http = require('node:http');
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          parentPort.postMessage({ arrived: true });
          setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('received'), workerData.answerAfterMs);
        });
      });
      server.keepAliveTimeout = 1;
      server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
      parentPort.on('message', (m) => { if (m === 'close') server.close(() => process.exit(0)); });
      `,
      { eval: true, workerData: { answerAfterMs } },
    );
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { port?: number }) => m.port && resolve(m.port));
    });
    return new ThreadReceiver(worker, port);
  }

  /** Resolves when the next request has fully arrived at the receiver. */
  nextArrival(): Promise<void> {
    return new Promise((resolve) => {
      const listener = (m: { arrived?: boolean }): void => {
        if (!m.arrived) return;
        this.worker.off('message', listener);
        resolve();
      };
      this.worker.on('message', listener);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    await exited;
  }
}

/** Blocks this thread's event loop, as a SIGSTOP or a long GC pause would. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

const TIMEOUT_MS = 300;

describe('WebhookSender after an event-loop stall', () => {
  let sender: WebhookSender;
  const receivers: ThreadReceiver[] = [];

  beforeEach(() => {
    sender = new WebhookSender({ timeoutMs: TIMEOUT_MS, allowInsecureTargets: true, connections: 4 });
  });

  afterEach(async () => {
    await sender.close();
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });

  const send = (port: number) => sender.send({ url: `http://127.0.0.1:${port}/hook`, headers: { 'content-type': 'application/json' }, body: '{}' });

  it('records the answer that arrived while the loop was blocked past the timeout, not a timeout', async () => {
    const receiver = await ThreadReceiver.start(20);
    receivers.push(receiver);
    const arrived = receiver.nextArrival();
    const sending = send(receiver.port);
    await arrived;
    // The receiver answers 20 ms later, while this loop is blocked for twice the timeout.
    blockEventLoop(2 * TIMEOUT_MS);
    const result = await sending;
    expect(result).toMatchObject({ ok: true, status: 200, body: 'received', error: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(2 * TIMEOUT_MS);
  });

  it('still times out when no answer came, stall or not', async () => {
    const receiver = await ThreadReceiver.start(5_000);
    receivers.push(receiver);
    const arrived = receiver.nextArrival();
    const sending = send(receiver.port);
    await arrived;
    blockEventLoop(2 * TIMEOUT_MS);
    expect(await sending).toMatchObject({ ok: false, status: null, error: 'timed out' });

    const started = performance.now();
    expect(await send(receiver.port)).toMatchObject({ ok: false, status: null, error: 'timed out' });
    // Without a stall the timeout is declared on time.
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 200);
  });
});
