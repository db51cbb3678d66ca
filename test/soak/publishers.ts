import { JetStreamClient } from 'nats';
import type { Model } from '@hookhub/contracts';
import { anEnvelope, signTwilioForm } from '@hookhub/testing';
import type { Ledger, PublishChannel } from './ledger';
import type { SeededRandom } from './seeded-random';
import { sleep } from '../support/faults';

export interface PublishTargets {
  /** Base URLs of the subscriptions apps (publishers alternate between them). */
  apiUrls: string[];
  publisherKey: string;
  tenantId: string;
  js: JetStreamClient;
  /** The JetStream subject of an event type of the tenant. */
  subject(type: string): string;
  /** The provider connection's signed ingest URL (twilio_sms). */
  providerUrl: string;
  twilioToken: string;
}

interface TicketEvent {
  id: string;
  type: string;
  model_id: string;
  data: Record<string, unknown>;
  model: Model;
}

/**
 * Publishes at `rate` events/s for as long as it runs, through every way in:
 * `POST /v1/events`, `POST /v1/events/batch`, straight to JetStream, and
 * signed provider callbacks. A publish that is not acknowledged is tried
 * again with the same id (as the README tells publishers to), for up to
 * `giveUpMs`; only acknowledged ones go to the ledger, which is what the
 * hub owes.
 */
export class SoakPublishers {
  private sequence = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private batch: TicketEvent[] = [];
  private readonly encoder = new TextEncoder();
  /** Retry pauses depend on the hub's answers, so they draw from a stream of their own and leave the mix reproducible. */
  private readonly jitter: SeededRandom;

  constructor(
    private readonly targets: PublishTargets,
    private readonly ledger: Ledger,
    private readonly random: SeededRandom,
    private readonly options: { rate: number; tickets: number; giveUpMs: number; maxInFlight: number },
  ) {
    this.jitter = random.fork(2);
  }

  async run(untilMs: number): Promise<void> {
    const started = Date.now();
    let sent = 0;
    let lastBatch = Date.now();
    while (Date.now() < untilMs) {
      const due = Math.floor(((Date.now() - started) / 1000) * this.options.rate);
      while (sent < due && this.inFlight.size < this.options.maxInFlight) {
        sent++;
        const channel = this.random.weighted<PublishChannel>([
          ['api', 40],
          ['api-batch', 20],
          ['jetstream', 25],
          ['provider', 15],
        ]);
        if (channel === 'api-batch') this.batch.push(this.ticketEvent());
        else
          this.track(
            channel === 'api' ? this.viaApi(this.ticketEvent()) : channel === 'jetstream' ? this.viaJetStream(this.ticketEvent()) : this.viaProvider(),
          );
      }
      if (this.batch.length > 0 && (this.batch.length >= 50 || Date.now() - lastBatch >= 1_000)) {
        this.track(this.viaBatch(this.batch));
        this.batch = [];
        lastBatch = Date.now();
      }
      await sleep(20);
    }
    if (this.batch.length > 0) this.track(this.viaBatch(this.batch));
    this.batch = [];
  }

  /** Waits for every publish still being tried. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private ticketEvent(): TicketEvent {
    const n = ++this.sequence;
    const ticket = `soak-t-${this.random.int(1, this.options.tickets)}`;
    return {
      id: `soak-${n}`,
      type: 'ticket.updated',
      model_id: ticket,
      data: { changes: { state: ['new', 'open'] }, n },
      model: { id: ticket, subject: `ticket ${ticket}`, state: 'open', n },
    };
  }

  /** Tries `attempt` until it says acknowledged, or gives up after `giveUpMs`. */
  private async untilAcknowledged(attempt: (tryNo: number) => Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + this.options.giveUpMs;
    for (let tryNo = 0; ; tryNo++) {
      try {
        if (await attempt(tryNo)) return true;
      } catch {
        /* connection refused, reset or timed out: the hub may be down; try again */
      }
      this.ledger.publishRetries++;
      if (Date.now() > deadline) {
        this.ledger.unacknowledged++;
        return false;
      }
      await sleep(300 + this.jitter.int(0, 700));
    }
  }

  private post(tryNo: number, path: string, body: unknown): Promise<Response> {
    const base = this.targets.apiUrls[(this.sequence + tryNo) % this.targets.apiUrls.length];
    return fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.targets.publisherKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  }

  private async viaApi(event: TicketEvent): Promise<void> {
    await this.untilAcknowledged(async (tryNo) => {
      const res = await this.post(tryNo, '/v1/events', event);
      const text = await res.text();
      if (res.status !== 202) return false;
      const { duplicate } = JSON.parse(text) as { duplicate: boolean };
      this.ledger.acknowledge({ id: event.id, channel: 'api', type: event.type, modelId: event.model_id, tries: tryNo, duplicate });
      return true;
    });
  }

  /** A batch: the events it stored are acknowledged; the rest go again, with the same ids. */
  private async viaBatch(events: TicketEvent[]): Promise<void> {
    let remaining = events;
    await this.untilAcknowledged(async (tryNo) => {
      const res = await this.post(tryNo, '/v1/events/batch', { events: remaining });
      const text = await res.text();
      if (res.status !== 202 && res.status !== 207) return false;
      const items = (JSON.parse(text) as { items: Array<{ index: number; status: string }> }).items;
      const stored = new Set(items.filter((i) => i.status === 'accepted' || i.status === 'duplicate').map((i) => i.index));
      remaining.forEach((e, i) => {
        if (stored.has(i)) this.ledger.acknowledge({ id: e.id, channel: 'api-batch', type: e.type, modelId: e.model_id });
      });
      remaining = remaining.filter((_, i) => !stored.has(i));
      return remaining.length === 0;
    });
  }

  /** As a trusted service publishes: the full envelope on the tenant's subject, message id `<tenant>:<event id>`. */
  private async viaJetStream(event: TicketEvent): Promise<void> {
    const { tenantId } = this.targets;
    const body = JSON.stringify(
      anEnvelope({
        id: event.id,
        account_id: tenantId,
        type: event.type,
        data: event.data,
        actor_type: 'user',
        actor_id: 'soak',
        actor_name: 'Soak',
        model_id: event.model_id,
        model: event.model,
      }),
    );
    await this.untilAcknowledged(async (tryNo) => {
      const ack = await this.targets.js.publish(this.targets.subject(event.type), this.encoder.encode(body), {
        msgID: `${tenantId}:${event.id}`,
        timeout: 5_000,
      });
      this.ledger.acknowledge({ id: event.id, channel: 'jetstream', type: event.type, modelId: event.model_id, tries: tryNo, duplicate: ack.duplicate });
      return true;
    });
  }

  /** A Twilio SMS status callback, signed with twilio-node's own signer; 200 means provider-ingest stored it. */
  private async viaProvider(): Promise<void> {
    const sid = `SM${(++this.sequence).toString(16).padStart(32, '0')}`;
    const request = signTwilioForm(
      this.targets.providerUrl,
      { MessageSid: sid, MessageStatus: 'delivered', To: '+15550001111' },
      {
        auth_token: this.targets.twilioToken,
      },
    );
    await this.untilAcknowledged(async () => {
      const res = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: new Uint8Array(request.body),
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      if (res.status !== 200) return false;
      this.ledger.acknowledge({ id: sid, channel: 'provider', type: 'message.delivery_status', modelId: sid });
      return true;
    });
  }
}
