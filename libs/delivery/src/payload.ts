import { EventEnvelope, toThinNotification } from '@hookhub/contracts';
import { envelopeText } from '@hookhub/event-store';

export type PayloadFormatName = 'full' | 'thin';

/** Serialises an event once per format, however many subscriptions receive it. */
export class EventPayloads {
  private full?: string;
  private thin?: string;

  constructor(readonly event: EventEnvelope) {}

  body(format: PayloadFormatName): string {
    if (format === 'thin') return (this.thin ??= JSON.stringify(toThinNotification(this.event)));
    return (this.full ??= envelopeText(this.event));
  }
}
