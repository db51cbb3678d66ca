import { EventEnvelope, serializeEnvelope, toThinNotification } from '@hookhub/contracts';

export type PayloadFormatName = 'full' | 'thin';

/** Serialises an event once per format, however many subscriptions receive it. */
export class EventPayloads {
  private full?: string;
  private thin?: string;

  constructor(readonly event: EventEnvelope) {}

  body(format: PayloadFormatName): string {
    if (format === 'thin') return (this.thin ??= JSON.stringify(toThinNotification(this.event)));
    return (this.full ??= serializeEnvelope(this.event));
  }
}
