import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventCatalogue, EventEnvelope } from '@hookhub/contracts';
import { EventPublisher } from '@hookhub/jetstream';
import { ProviderCallbackEntity, ProviderCallbackRepository, ProviderConnectionRepository } from '@hookhub/persistence';
import { ProviderName } from '@hookhub/providers';
import type { TraceContext } from '@hookhub/tracing';
import { INGEST_SETTINGS, IngestSettings } from './ingest.settings';
import { IngestEventFactory } from './ingest-event-factory';
import { ProviderRegistry } from './provider-registry';
import { SubscriptionConfirmer } from './subscription-confirmer';

const SWEEP_INTERVAL_MS = 1_000;
const SWEEP_BATCH = 50;
/**
 * Publishes awaiting their acks at once. A SendGrid batch (768 KB) is a few
 * thousand events; one round trip each made it take most of the lease. They
 * are still sent in order on the one connection, so the stream keeps it.
 */
const PUBLISH_WINDOW = 64;

/** Retry delays for a callback whose events could not be published (NATS down, database busy). */
const backoffMs = (attempt: number): number => Math.min(60_000, 1_000 * 2 ** Math.max(0, attempt - 1));

/**
 * Turns stored callbacks into published events. A callback is processed right
 * after it is stored; one whose process died or whose publishing failed is
 * taken up again by the sweeper once its lease runs out, so a stored callback
 * is eventually published whatever happens in between. Event ids are derived
 * from provider ids, so processing twice publishes nothing new.
 */
@Injectable()
export class CallbackProcessor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CallbackProcessor.name);
  /** Providers' callbacks become built-in event types only. */
  private readonly validator = new EventCatalogue();
  private readonly inFlight = new Set<Promise<void>>();
  /** Callbacks this process is working on; a sweep that claims one again leaves it to that run. */
  private readonly working = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private stopped = false;

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly connections: ProviderConnectionRepository,
    private readonly callbacks: ProviderCallbackRepository,
    private readonly factory: IngestEventFactory,
    private readonly publisher: EventPublisher,
    private readonly confirmer: SubscriptionConfirmer,
    @Inject(INGEST_SETTINGS) private readonly settings: IngestSettings,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Starts processing without waiting; the lease covers a crash in between. `trace`: the callback request's. */
  processSoon(callback: ProviderCallbackEntity, trace?: TraceContext): void {
    if (this.stopped) return;
    const p = this.process(callback, trace).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** `trace`: the callback request's, when processed right after it (a sweep's reprocessing starts new traces). */
  async process(callback: ProviderCallbackEntity, trace?: TraceContext): Promise<void> {
    // A large batch may outlast its lease here; the sweep's claim has just renewed the lease, so the running work goes on alone.
    if (this.working.has(callback.id)) return;
    this.working.add(callback.id);
    try {
      const eventIds = await this.publish(callback, trace);
      await this.callbacks.markProcessed(callback.id, eventIds);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const final = callback.attempts >= this.settings.maxAttempts;
      this.logger.warn(
        { callbackId: callback.id, provider: callback.provider, attempt: callback.attempts, final, err: message },
        'provider callback not processed',
      );
      await this.callbacks.markAttemptFailed(callback.id, message, backoffMs(callback.attempts), final).catch((e: unknown) => {
        // The lease still runs out, so the sweeper retries it anyway.
        this.logger.error({ callbackId: callback.id, err: e instanceof Error ? e.message : String(e) }, 'could not record a processing failure');
      });
    } finally {
      this.working.delete(callback.id);
    }
  }

  private async publish(callback: ProviderCallbackEntity, trace: TraceContext | undefined): Promise<string[]> {
    const connection = await this.connections.findById(callback.connectionId);
    if (!connection) return [];
    const adapter = this.registry.get(callback.provider as ProviderName);
    const parsed = await adapter.parse({
      method: callback.method === 'GET' ? 'GET' : 'POST',
      url: callback.url,
      headers: callback.headers,
      rawBody: callback.body,
      receivedAt: callback.receivedAt,
    });
    for (const action of parsed.actions) {
      if (action.type === 'confirm_subscription') await this.confirmer.confirm(action.url);
    }
    const events = await this.factory.eventsFor(connection, parsed.items);
    for (const event of events) this.assertValid(event);
    // In order: a new ticket's `ticket.created` is stored before its first message.
    for (let i = 0; i < events.length; i += PUBLISH_WINDOW) {
      await Promise.all(events.slice(i, i + PUBLISH_WINDOW).map((event) => this.publisher.publish(event, { trace })));
    }
    return events.map((e) => e.id);
  }

  private assertValid(event: EventEnvelope): void {
    const result = this.validator.validate(event);
    if (!result.ok) throw new Error(`normalised ${event.type} is invalid: ${result.errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`);
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      const due = await this.callbacks.claimDue(SWEEP_BATCH, this.settings.leaseMs);
      await Promise.all(due.map((c) => this.process(c)));
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'callback sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}
