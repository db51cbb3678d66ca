import { Inject, Injectable } from '@nestjs/common';
import { HookhubPublisher } from '@hookhub/sdk/nestjs';

export interface Ticket {
  id: string;
  subject: string;
  state: 'open' | 'hold' | 'closed';
}

/** The application's own service: opening a ticket publishes `ticket.created` in one line. */
@Injectable()
export class TicketsService {
  constructor(@Inject(HookhubPublisher) private readonly hookhub: HookhubPublisher) {}

  /** Returns the event's id (the SDK chose it before the first try, so a retried publish is stored once). */
  async open(ticket: Ticket): Promise<string> {
    const receipt = await this.hookhub.publish({ type: 'ticket.created', model_id: ticket.id, model: { ...ticket } });
    return receipt.id;
  }
}
