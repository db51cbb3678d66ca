import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { EventEnvelope, EventTypeDefinition, EventTypeVersion } from '@hookhub/contracts';
import { EventTypeRegistry } from '@hookhub/event-catalogue';
import { EventPublisher } from '@hookhub/jetstream';
import { EventLogRepository, TenantRepository } from '@hookhub/persistence';
import { ProblemException, Problems } from '@hookhub/platform';
import { annotate, type TraceContext } from '@hookhub/tracing';
import type { Principal } from '../auth/principal';
import { BatchItemView, BatchReceiptView, PublishEventDto, publishEventOf, PublishReceiptView } from './publish-event.dto';

/**
 * The answer when JetStream did not confirm a publish. A try may have reached
 * the server and only its ack been lost, so the event may be stored: the
 * answer must not say it was not, and the publisher's retry with the same id
 * is what settles it (JetStream and the event log de-duplicate by id).
 */
export function eventNotConfirmed(eventId: string, err: unknown): ProblemException {
  return new ProblemException(
    HttpStatus.SERVICE_UNAVAILABLE,
    'event-not-confirmed',
    'Event not confirmed',
    `the event may or may not have been stored: retry with the same id '${eventId}' (a repeated id is stored once) (${(err as Error).message})`,
    { event_id: eventId, retry_with_same_id: true },
  );
}

/** A tenant's published event: completed into an envelope, checked against its type's schema, stored on JetStream. */
@Injectable()
export class EventsService {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly tenants: TenantRepository,
    private readonly log: EventLogRepository,
    private readonly registry: EventTypeRegistry,
  ) {}

  /** The tenant's event as the log holds it; 404 when it is not there (another tenant's, not yet recorded, or past retention). */
  async get(principal: Principal, id: string): Promise<EventEnvelope> {
    const envelope = await this.log.findEnvelope(principal.tenantId, id);
    if (!envelope) throw Problems.notFound('Event');
    return envelope;
  }

  /** `trace`: the request's (tracing on), which the event's publish and everything after it continue. */
  async publish(principal: Principal, dto: PublishEventDto, trace?: TraceContext): Promise<PublishReceiptView> {
    const { event, definition, version } = await this.envelope(principal, dto);
    annotate(trace, { 'hookhub.event.id': event.id, 'hookhub.event.type': event.type });
    let receipt;
    try {
      // The request's span is the event's producer: it ends once JetStream acked.
      receipt = await this.publisher.publish(event, { trace, producerSpan: 'caller' });
    } catch (err) {
      throw eventNotConfirmed(event.id, err);
    }
    return { id: event.id, duplicate: receipt.duplicate, schema_version: version.version, deprecated: definition.deprecated || version.deprecated };
  }

  /**
   * Each event of a batch checked and published on its own, all at once (JetStream acks them as they
   * are stored): one invalid or unconfirmed event changes nothing for the others.
   */
  async publishBatch(principal: Principal, events: unknown[], trace?: TraceContext): Promise<BatchReceiptView> {
    const items = await Promise.all(events.map((item, index) => this.publishItem(principal, item, index, trace)));
    const count = (status: BatchItemView['status']): number => items.filter((i) => i.status === status).length;
    const accepted = count('accepted');
    const duplicates = count('duplicate');
    return { accepted, duplicates, failed: items.length - accepted - duplicates, items };
  }

  private async publishItem(principal: Principal, item: unknown, index: number, trace: TraceContext | undefined): Promise<BatchItemView> {
    const given = (item as { id?: unknown } | null)?.id;
    let prepared: Awaited<ReturnType<EventsService['envelope']>>;
    try {
      prepared = await this.envelope(principal, await publishEventOf(item));
    } catch (err) {
      if (!(err instanceof ProblemException)) throw err;
      return { index, id: typeof given === 'string' ? given : null, status: 'invalid', problem: err.document() };
    }
    const { event, definition, version } = prepared;
    try {
      const receipt = await this.publisher.publish(event, { trace, producerSpan: 'caller' });
      return {
        index,
        id: event.id,
        status: receipt.duplicate ? 'duplicate' : 'accepted',
        schema_version: version.version,
        deprecated: definition.deprecated || version.deprecated,
      };
    } catch (err) {
      return { index, id: event.id, status: 'not_confirmed', problem: eventNotConfirmed(event.id, err).document() };
    }
  }

  /**
   * The envelope as receivers get it: the tenant's account, defaults filled in, checked against the schema
   * of its type in the version it names (default: the latest), and tagged with that version.
   */
  private async envelope(
    principal: Principal,
    dto: PublishEventDto,
  ): Promise<{ event: EventEnvelope; definition: EventTypeDefinition; version: EventTypeVersion }> {
    const def = await this.registry.find(principal.tenantId, dto.type);
    if (!def) {
      throw Problems.unprocessable('unknown-event-type', 'Unknown event type', `unknown event type '${dto.type}'; see GET /v1/event-types`, [
        { pointer: '#/type', detail: 'is not in the catalogue' },
      ]);
    }
    if (dto.account_id !== undefined && dto.account_id !== principal.tenantId) {
      throw Problems.forbidden("account_id must be the API key's tenant");
    }
    const candidate: EventEnvelope = {
      id: dto.id ?? randomUUID(),
      account_id: principal.tenantId,
      account_url: await this.tenants.accountUrl(principal.tenantId),
      created_at: dto.created_at ? new Date(dto.created_at).toISOString().replace('.000Z', 'Z') : new Date().toISOString(),
      type: dto.type,
      data: dto.data ?? {},
      actor_type: dto.actor_type ?? null,
      actor_id: dto.actor_id ?? null,
      actor_name: dto.actor_name ?? null,
      model_type: dto.model_type ?? def.modelType,
      model_id: dto.model_id,
      model: (dto.model ?? null) as EventEnvelope['model'],
    };
    const result = await this.registry.validate(candidate, dto.schema_version);
    if (!result.ok && result.reason === 'unknown-version') {
      throw Problems.unprocessable('unknown-schema-version', 'Unknown schema version', result.errors[0].detail, result.errors);
    }
    if (!result.ok) {
      throw Problems.unprocessable(
        'invalid-event',
        'Invalid event',
        `the event does not match the schema of ${dto.type}: ${result.errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`,
        result.errors,
      );
    }
    return result;
  }
}
