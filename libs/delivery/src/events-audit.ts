import { Inject, Injectable, Logger } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { eventKey } from '@hookhub/event-store';
import { EVENTS_CONSUMER, JETSTREAM_SETTINGS, JetstreamConnection, JetstreamSettings, StoredMessage, StoredMessages } from '@hookhub/jetstream';
import { EventLogRepository, StreamAuditRepository } from '@hookhub/persistence';
import { DeliveryMetrics } from './delivery-metrics';

/** Messages checked per read; a pass reads again while it is behind, up to PASS_BUDGET_MS. */
const PER_READ = 2_000;
const PASS_BUDGET_MS = 10_000;
/**
 * Only events stored this recently are audited. Far below the shortest retention (a day), so an
 * event the log dropped on purpose is never taken for a lost one and sent again.
 */
const WINDOW_MS = 3_600_000;
/** On an event published again: the sequence of the copy that was lost. A copy is not published a third time. */
export const RECOVERED_FROM_HEADER = 'Hookhub-Recovered-From';

const decoder = new TextDecoder();

/** What a pass found. */
export interface AuditPass {
  checked: number;
  recovered: number;
}

/**
 * Checks that every event the events consumer has acknowledged is in the
 * event log, and publishes the ones that are not again, for the consumer to
 * work on like any other event.
 * JetStream can count a message as acknowledged that no pod worked on, when
 * its nodes crash and rejoin under load (the soak's lost event; retries lost
 * the same way in soak run 3, see docs/durability.md). The consumer's ack
 * floor bounds the audit: below it, every message should be recorded; one
 * pod at a time reads onward from where the last pass stopped (kept in
 * PostgreSQL; a pass that fails is done again from there). An invalid event is not in the log either: its copy is
 * terminated again, and the copy, marked, is not published a third time.
 */
@Injectable()
export class EventsAudit {
  private readonly logger = new Logger(EventsAudit.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly connection: JetstreamConnection,
    @Inject(JETSTREAM_SETTINGS) private readonly settings: JetstreamSettings,
    private readonly stored: StoredMessages,
    private readonly audits: StreamAuditRepository,
    private readonly events: EventLogRepository,
    private readonly metrics: DeliveryMetrics,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.run()
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'auditing the events stream failed; next pass'))
        .finally(() => (this.running = undefined));
    }, everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass, if no other pod is auditing. */
  async run(): Promise<AuditPass> {
    const stream = this.settings.subjects.eventsStream;
    const pass: AuditPass = { checked: 0, recovered: 0 };
    await this.audits.audit(stream, async (checkedThrough) => {
      const jsm = this.connection.jsm;
      const [consumer, info] = await Promise.all([jsm.consumers.info(stream, EVENTS_CONSUMER), jsm.streams.info(stream)]);
      // The first audit of a stream starts at its beginning; expired messages are skipped.
      let from = Math.max(checkedThrough ?? 0, info.state.first_seq - 1);
      const floor = consumer.ack_floor.stream_seq;
      const started = Date.now();
      while (from < floor && Date.now() - started < PASS_BUDGET_MS) {
        const to = Math.min(floor, from + PER_READ);
        const messages = await this.stored.read(stream, from + 1, to);
        pass.recovered += await this.recover(stream, await this.unrecorded(messages));
        pass.checked += messages.length;
        from = to;
      }
      return from > 0 ? from : null;
    });
    return pass;
  }

  /** The messages of the window whose event is not in the log. */
  private async unrecorded(messages: StoredMessage[]): Promise<StoredMessage[]> {
    const since = Date.now() - WINDOW_MS;
    const candidates: Array<{ msg: StoredMessage; tenantId: string; id: string }> = [];
    for (const msg of messages) {
      if (msg.storedAt < since) continue;
      const key = keyOf(msg);
      // Not even an event: the pipeline terminated it, and would again.
      if (key) candidates.push({ msg, ...key });
    }
    if (candidates.length === 0) return [];
    const oldest = Math.min(...candidates.map((c) => c.msg.storedAt));
    // Recorded after it was stored, give or take clock skew between NATS and PostgreSQL.
    const recorded = await this.events.recordedAmong(candidates, new Date(oldest - WINDOW_MS));
    const found = new Set(recorded.map((r) => eventKey({ account_id: r.tenantId, id: r.id })));
    return candidates.filter((c) => !found.has(eventKey({ account_id: c.tenantId, id: c.id }))).map((c) => c.msg);
  }

  /** Publishes the lost events again (a failure throws: the pass ends before the checkpoint moves past them). */
  private async recover(stream: string, lost: StoredMessage[]): Promise<number> {
    const copies = lost.filter((m) => m.header(RECOVERED_FROM_HEADER) === undefined);
    const again = lost.filter((m) => m.header(RECOVERED_FROM_HEADER) !== undefined);
    if (again.length > 0) {
      this.logger.error(
        { events: again.length, seqs: again.map((m) => m.seq).slice(0, 20) },
        'events published again by the audit are missing from the event log once more (invalid, or lost twice); not published again',
      );
    }
    if (copies.length === 0) return 0;
    this.logger.warn(
      { events: copies.length, seqs: copies.map((m) => m.seq).slice(0, 20) },
      'acknowledged events missing from the event log; publishing them again',
    );
    for (const m of copies) await this.stored.publishAgain(m, { [RECOVERED_FROM_HEADER]: String(m.seq) }, `recovered:${stream}:${m.seq}`);
    this.metrics.eventsRecovered.inc(copies.length);
    return copies.length;
  }
}

/** The tenant and id a stored event names, or null when it does not parse as one. */
function keyOf(msg: StoredMessage): { tenantId: string; id: string } | null {
  try {
    const body = JSON.parse(decoder.decode(msg.data)) as { account_id?: unknown; id?: unknown };
    if (typeof body.account_id === 'string' && isUUID(body.account_id) && typeof body.id === 'string') return { tenantId: body.account_id, id: body.id };
  } catch {
    /* not JSON */
  }
  return null;
}
