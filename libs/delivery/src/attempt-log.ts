import { Logger } from '@nestjs/common';
import { AttemptRecord, DeliveryOutcomeRepository, DisabledSubscription } from '@hookhub/persistence';

interface Pending {
  record: AttemptRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Writes attempt records in batches: one transaction for everything finished
 * within a few milliseconds, instead of two round trips per delivery. A write
 * resolves once its batch is committed, so a message is acked only after its
 * delivery record is durable. Few transactions run at once (they would only
 * queue on the same rows and commits); records finished meanwhile form the
 * next, larger batch. The acks wait for the linger, the deliveries do not.
 *
 * One row that cannot be written never holds back the rest of its batch: a
 * batch refused for what it contains is split until the row is alone, the
 * other rows are committed at once and only that row's write fails. A batch
 * refused because the database is unavailable is retried whole.
 */
export class AttemptLog {
  private readonly logger = new Logger(AttemptLog.name);
  private queue: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private flushing = 0;

  constructor(
    private readonly repo: DeliveryOutcomeRepository,
    private readonly options: {
      maxBatch: number;
      lingerMs: number;
      retryForMs: number;
      /** Consecutive failures that disable a subscription… */
      disableAfter: number;
      /** …whose endpoint has also been failing this long (unless the subscription sets its own time). */
      disableAfterFailingMs: number;
      maxConcurrent?: number;
    },
    private readonly onDisabled: (subscriptions: DisabledSubscription[]) => Promise<void>,
  ) {}

  write(record: AttemptRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (this.queue.length >= this.options.maxBatch) this.flush(true);
      else this.timer ??= setTimeout(() => this.flush(false), this.options.lingerMs);
    });
  }

  /**
   * Starts a transaction for what is queued. One runs at a time, unless a full
   * batch is waiting (then up to `maxConcurrent`): records finished meanwhile
   * join the next batch, so a busy pod writes few large batches.
   */
  private flush(full: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing >= (full ? (this.options.maxConcurrent ?? 2) : 1)) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    this.flushing++;
    void this.persist(batch).finally(() => {
      this.flushing--;
      if (this.queue.length > 0) this.flush(this.queue.length >= this.options.maxBatch);
    });
  }

  private async persist(batch: Pending[]): Promise<void> {
    const deadline = Date.now() + this.options.retryForMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        const disabled = await this.repo.recordAttempts(
          batch.map((p) => p.record),
          this.options.disableAfter,
          this.options.disableAfterFailingMs,
        );
        if (disabled.length > 0) await this.onDisabled(disabled).catch((err: unknown) => this.logger.error({ err }, 'disable notice failed'));
        for (const p of batch) p.resolve();
        return;
      } catch (err) {
        if (refusedForContent(err)) return this.isolate(batch, err);
        if (Date.now() + delay > deadline) {
          this.logger.error({ err, records: batch.length }, 'could not record delivery attempts');
          for (const p of batch) p.reject(err);
          return;
        }
        this.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'recording attempts failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Retrying a batch the database refused for its content would fail the same way for as long as
   * the retries last, holding every other row back: the halves are written one after the other
   * (in parallel they could deadlock on shared subscription rows), down to the row at fault.
   */
  private async isolate(batch: Pending[], err: unknown): Promise<void> {
    if (batch.length === 1) {
      const { deliveryId, subscriptionId } = batch[0].record;
      this.logger.error({ err: (err as Error).message, code: sqlState(err), deliveryId, subscriptionId }, 'an attempt record cannot be written');
      batch[0].reject(err);
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await this.persist(batch.slice(0, half));
    await this.persist(batch.slice(half));
  }

  /** Waits until everything written so far is committed or failed. */
  async drain(): Promise<void> {
    this.flush(true);
    while (this.flushing > 0 || this.queue.length > 0) {
      await new Promise((r) => setTimeout(r, 10));
      this.flush(true);
    }
  }
}

/** The SQLSTATE of a PostgreSQL error (TypeORM copies it onto its own error, or keeps it in `driverError`). */
function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Data exceptions (class 22) and integrity constraint violations (class 23) are about a row of the
 * batch, and the same rows fail every time. Everything else (a lost connection, a deadlock, a
 * statement timeout) may pass, and the batch is retried whole.
 */
export function refusedForContent(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}
