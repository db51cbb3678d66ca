import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders } from 'nats';
import { EventEnvelope, serializeEnvelope, SubjectNames } from '@hookhub/contracts';
import { JETSTREAM_SETTINGS, JetstreamSettings } from './jetstream.config';
import { JetstreamConnection } from './jetstream-connection';

export interface PublishReceipt {
  stream: string;
  seq: number;
  /** True when JetStream had this event id already and stored nothing new. */
  duplicate: boolean;
}

const encoder = new TextEncoder();

/**
 * Publishes domain events. The returned promise resolves only once JetStream
 * has stored the event (its publish ack), which is what a 202 promises.
 */
@Injectable()
export class EventPublisher {
  constructor(
    private readonly connection: JetstreamConnection,
    @Inject(JETSTREAM_SETTINGS) private readonly settings: JetstreamSettings,
  ) {}

  async publish(event: EventEnvelope): Promise<PublishReceipt> {
    const subject = this.settings.subjects.event(event.account_id, event.type);
    const h = natsHeaders();
    h.set('Content-Type', 'application/json');
    const ack = await this.connection.js.publish(subject, encoder.encode(serializeEnvelope(event)), {
      msgID: SubjectNames.eventMsgId(event.account_id, event.id),
      headers: h,
      timeout: 10_000,
    });
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  }
}
