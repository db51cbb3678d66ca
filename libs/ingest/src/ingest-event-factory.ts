import { Injectable } from '@nestjs/common';
import { MESSAGE_STATUSES, MessageStatus, EventEnvelope, Model } from '@hookhub/contracts';
import { MessageLookupRepository, TenantRepository } from '@hookhub/persistence';
import type { DeliveryStatusItem, InboundEmailItem, NormalisedItem } from '@hookhub/providers';
import { derivedId } from './event-ids';

export interface ConnectionRef {
  id: string;
  tenantId: string;
  provider: string;
  statusMap: Record<string, string>;
}

type MessageRef = NonNullable<Awaited<ReturnType<MessageLookupRepository['byProviderMessageId']>>>;

/** Lookups of one batch running at once: enough to hide round trips, few enough to leave the pool to receipts. */
const LOOKUP_CONCURRENCY = 8;

/** `reply+<ticket id>@…`: the reply token the hub's outgoing mail puts in Reply-To. */
const REPLY_TOKEN = /^[^+@\s]+\+([A-Za-z0-9-]{1,128})@/;

const bare = (messageId: string): string => messageId.trim().replace(/^<|>$/g, '');

function envelope(
  tenantId: string,
  fields: Omit<EventEnvelope, 'account_id' | 'account_url' | 'actor_type' | 'actor_id' | 'actor_name'>,
  connection: ConnectionRef,
): EventEnvelope {
  return {
    id: fields.id,
    account_id: tenantId,
    account_url: '', // set by eventsFor
    created_at: fields.created_at,
    type: fields.type,
    data: fields.data,
    actor_type: 'provider',
    actor_id: connection.id,
    actor_name: connection.provider,
    model_type: fields.model_type,
    model_id: fields.model_id,
    model: fields.model,
  };
}

/**
 * Turns normalised provider items into hub events. Ids derive from the
 * provider's own ids, so reprocessing or a repeated callback yields the same
 * events. Status reports attach to the hub's message when one carries the
 * provider's message id; inbound mail joins the ticket it replies to.
 */
@Injectable()
export class IngestEventFactory {
  constructor(
    private readonly lookup: MessageLookupRepository,
    private readonly tenants: TenantRepository,
  ) {}

  async eventsFor(connection: ConnectionRef, items: NormalisedItem[]): Promise<EventEnvelope[]> {
    const events: EventEnvelope[] = [];
    // A batch holds thousands of reports, often several per message: one lookup per message, a few at a time, order kept.
    const messages = new Map<string, Promise<MessageRef | null>>();
    const messageOf = (id: string): Promise<MessageRef | null> => {
      let found = messages.get(id);
      if (!found) messages.set(id, (found = this.lookup.byProviderMessageId(connection.tenantId, id)));
      return found;
    };
    for (let i = 0; i < items.length;) {
      const item = items[i];
      if (item.kind !== 'delivery_status') {
        events.push(...(await this.inboundEmail(connection, item)));
        i += 1;
        continue;
      }
      const run: DeliveryStatusItem[] = [];
      while (i < items.length && run.length < LOOKUP_CONCURRENCY) {
        const next = items[i];
        if (next.kind !== 'delivery_status') break;
        run.push(next);
        i += 1;
      }
      events.push(...(await Promise.all(run.map((r) => this.deliveryStatus(connection, r, messageOf)))));
    }
    // The tenant's account URL, from the one place every envelope the hub builds takes it.
    const accountUrl = await this.tenants.accountUrl(connection.tenantId);
    return events.map((e) => ({ ...e, account_url: accountUrl }));
  }

  private async deliveryStatus(
    connection: ConnectionRef,
    item: DeliveryStatusItem,
    messageOf: (id: string) => Promise<MessageRef | null>,
  ): Promise<EventEnvelope> {
    const status = this.mappedStatus(connection, item);
    const message = await messageOf(item.providerMessageId);
    const data = {
      provider: connection.provider,
      connection_id: connection.id,
      provider_message_id: item.providerMessageId,
      channel: item.channel,
      status,
      raw_status: item.rawStatus,
      error_code: item.errorCode,
      error_message: item.errorMessage,
      recipient: item.recipient,
      occurred_at: item.occurredAt,
    };
    return envelope(
      connection.tenantId,
      {
        id: derivedId(connection.tenantId, connection.provider, 'status', item.providerEventId),
        // The provider's time orders the snapshot: a late "sent" does not undo "delivered".
        created_at: item.occurredAt,
        type: 'message.delivery_status',
        data,
        model_type: 'message',
        model_id: message?.messageId ?? item.providerMessageId,
        model: message ? ({ ...message.model, id: message.messageId, delivery_status: status, delivery_status_at: item.occurredAt } as Model) : null,
      },
      connection,
    );
  }

  private mappedStatus(connection: ConnectionRef, item: DeliveryStatusItem): MessageStatus {
    const override = item.rawStatus ? connection.statusMap[item.rawStatus] : undefined;
    return override && (MESSAGE_STATUSES as readonly string[]).includes(override) ? (override as MessageStatus) : item.status;
  }

  private async inboundEmail(connection: ConnectionRef, item: InboundEmailItem): Promise<EventEnvelope[]> {
    const tenantId = connection.tenantId;
    const messageId = derivedId(tenantId, 'email', item.providerEventId);
    let ticketId = await this.ticketOf(tenantId, item);
    const events: EventEnvelope[] = [];
    if (!ticketId) {
      ticketId = derivedId(tenantId, 'email-ticket', item.providerEventId);
      const ticket: Model = {
        id: ticketId,
        state: 'open',
        subject: item.subject,
        type: 'email',
        reply_to: item.from,
        channel: 'email',
        created_at: item.date,
        updated_at: item.date,
      };
      events.push(
        envelope(
          tenantId,
          {
            id: derivedId(tenantId, 'email-ticket-created', item.providerEventId),
            created_at: item.date,
            type: 'ticket.created',
            data: {},
            model_type: 'ticket',
            model_id: ticketId,
            model: ticket,
          },
          connection,
        ),
      );
    }
    const message: Model = {
      id: messageId,
      ticket_id: ticketId,
      direction: 'inbound',
      channel: 'email',
      from: item.from,
      to: item.to,
      cc: item.cc,
      subject: item.subject,
      body: item.text,
      html: item.html,
      email_message_id: item.messageId ? bare(item.messageId) : null,
      in_reply_to: item.inReplyTo ? bare(item.inReplyTo) : null,
      attachments: item.attachments.map((a) => ({ filename: a.filename, content_type: a.contentType, size: a.size })),
      created_at: item.date,
    };
    events.push(
      envelope(
        tenantId,
        {
          id: derivedId(tenantId, 'email-message-created', item.providerEventId),
          created_at: item.date,
          type: 'message.created',
          data: {},
          model_type: 'message',
          model_id: messageId,
          model: message,
        },
        connection,
      ),
    );
    return events;
  }

  /** The ticket a reply belongs to: by reply token first, then by the thread headers (newest reference first). */
  private async ticketOf(tenantId: string, item: InboundEmailItem): Promise<string | null> {
    for (const address of [...item.to, ...item.cc]) {
      const token = REPLY_TOKEN.exec(address.trim().replace(/^.*</, ''))?.[1];
      if (token && (await this.lookup.ticketExists(tenantId, token))) return token;
    }
    const thread = [item.inReplyTo, ...[...item.references].reverse()].filter((x): x is string => !!x).map(bare);
    const found = await this.lookup.byEmailMessageIds(tenantId, [...new Set(thread)]);
    return found?.ticketId ?? null;
  }
}
