import { Injectable } from '@nestjs/common';
import { headers as natsHeaders, MsgHdrs } from 'nats';
import { JetstreamConnection } from './jetstream-connection';

/** A message as the stream stores it. */
export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** When the stream stored it (epoch ms). */
  storedAt: number;
  header(name: string): string | undefined;
}

/** How long a read waits for messages of its range that never come (deleted or expired ones). */
const READ_EXPIRES_MS = 2_000;

interface ReadMessage extends StoredMessage {
  readonly headers: MsgHdrs | undefined;
}

/**
 * A stream's stored messages, for audits: a stretch read by sequence with an
 * ordered consumer (no durable state, no acks, nothing another consumer
 * sees), and a message published again.
 */
@Injectable()
export class StoredMessages {
  constructor(private readonly connection: JetstreamConnection) {}

  /** The stored messages with sequences `from` to `to` (both included), in order; gaps are deleted or expired messages. */
  async read(stream: string, from: number, to: number): Promise<StoredMessage[]> {
    if (to < from) return [];
    const consumer = await this.connection.js.consumers.get(stream, { opt_start_seq: from });
    const read: ReadMessage[] = [];
    try {
      const messages = await consumer.fetch({ max_messages: to - from + 1, expires: READ_EXPIRES_MS });
      for await (const m of messages) {
        if (m.seq > to) break;
        read.push({
          seq: m.seq,
          subject: m.subject,
          data: m.data,
          storedAt: Math.floor(m.info.timestampNanos / 1e6),
          headers: m.headers,
          header: (name) => m.headers?.get(name) || undefined,
        });
        if (m.seq === to) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return read;
  }

  /**
   * Publishes a read message again on its subject, with its headers and these added, under a new
   * message id (de-duplicated within the stream's window). Resolves once the stream stored it.
   */
  async publishAgain(message: StoredMessage, added: Record<string, string>, msgID: string): Promise<void> {
    const headers = natsHeaders();
    const original = (message as Partial<ReadMessage>).headers;
    for (const [name, values] of original ?? []) if (name !== 'Nats-Msg-Id') for (const value of values) headers.append(name, value);
    for (const [name, value] of Object.entries(added)) headers.set(name, value);
    await this.connection.js.publish(message.subject, message.data, { msgID, headers, timeout: 10_000 });
  }
}
