import { ChangeStatus, EventCatalogue, EventEnvelope, toThinNotification } from '@hookhub/contracts';
import { envelopeText } from '@hookhub/event-store';

export type PayloadFormatName = 'full' | 'thin';

/** Locates the resources of built-in types only: payloads built without the registry's catalogue (tests, tools). */
const BUILT_IN_CATALOGUE = new EventCatalogue();

/** Serialises an event once per format, however many subscriptions receive it. */
export class EventPayloads {
  private full?: string;
  private thin?: string;

  /**
   * `status`: the change status the event log holds for the event (from the
   * recorder, or read back with it). A thin notification is never guessed
   * from the type's name (that cannot tell a resource's first event).
   * `catalogue` says where a thin notification's resource is read.
   */
  constructor(
    readonly event: EventEnvelope,
    private readonly status: ChangeStatus | undefined,
    private readonly catalogue: EventCatalogue = BUILT_IN_CATALOGUE,
  ) {}

  body(format: PayloadFormatName): string {
    if (format === 'thin') return (this.thin ??= JSON.stringify(toThinNotification(this.event, this.changeStatus(), this.catalogue.locate(this.event))));
    return (this.full ??= envelopeText(this.event));
  }

  private changeStatus(): ChangeStatus {
    const status = this.status;
    if (!status) throw new Error(`event ${this.event.id} has no recorded change status; record it before sending a thin notification`);
    return status;
  }
}
