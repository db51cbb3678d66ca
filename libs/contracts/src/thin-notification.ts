import { EventEnvelope, isBuiltInModelType, ModelType } from './envelope';

export type ChangeStatus = 'CREATION' | 'UPDATE' | 'DELETION';

/**
 * The "thin" format (after the notification sample in seed 004): only what
 * changed and where to fetch it, so sensitive data never travels in the hook.
 */
export interface ThinNotification {
  data: {
    status: ChangeStatus;
    params: Record<string, string>;
    resource: string;
  };
  tenant_id: string;
  topic: string;
}

/** Where a thin notification's receiver reads the resource, and the notification's topic. */
export interface ResourceLocation {
  params: Record<string, string>;
  resource: string;
  topic: string;
}

export const TOPICS: Record<ModelType, string> = {
  ticket: 'sac_ticket',
  message: 'sac_message',
  survey_response: 'sac_survey_response',
  subscription: 'hookhub_subscription',
};

/** Whether an event type's name says it deletes its resource: such an event must carry no model. */
export function isDeletionType(eventType: string): boolean {
  return eventType.endsWith('.deleted');
}

/**
 * What an event did to its resource, decided where the event is recorded and
 * nowhere else: a deletion type deletes; the first event of a resource in the
 * event log creates it, whatever the type is called (a survey response's first
 * event is `survey.response_completed`, and a `ticket.updated` that overtook its
 * `ticket.created` is still the ticket's first); every later one updates it (so
 * a `*.created` arriving after other events of its resource is an UPDATE).
 * The hub's own subscriptions are created through the admin API, not by an
 * event, so no event about them is their creation.
 */
export function changeStatusFor(e: Pick<EventEnvelope, 'type' | 'model_type'>, firstOfResource: boolean): ChangeStatus {
  if (isDeletionType(e.type)) return 'DELETION';
  if (firstOfResource && e.model_type !== 'subscription') return 'CREATION';
  return 'UPDATE';
}

/**
 * The resource a resource belongs to, when the hub keeps both: a message
 * belongs to its ticket (`ticket_id` in the model, or in `data` for a
 * deletion). Deleting the parent deletes the children with it. A survey's
 * responses have no parent here: surveys are not resources of the hub.
 */
export function parentResource(e: Pick<EventEnvelope, 'model_type' | 'model' | 'data'>): { modelType: 'ticket'; modelId: string } | null {
  if (e.model_type !== 'message') return null;
  const fromModel = e.model?.ticket_id;
  const fromData = e.data?.ticket_id;
  const ticketId = typeof fromModel === 'string' ? fromModel : typeof fromData === 'string' ? fromData : undefined;
  return ticketId ? { modelType: 'ticket', modelId: ticketId } : null;
}

/** The ids that locate a resource of a built-in model type, and its path in the `/v0` resource API. */
export function resourceLocator(e: Pick<EventEnvelope, 'type' | 'model_type' | 'model_id' | 'model' | 'data'>): {
  params: Record<string, string>;
  resource: string;
} {
  const id = e.model_id;
  const parent = (key: string): string => {
    const fromModel = e.model?.[key];
    const fromData = e.data?.[key];
    const value = typeof fromModel === 'string' ? fromModel : typeof fromData === 'string' ? fromData : undefined;
    if (!value) throw new Error(`${e.model_type} event ${id} has no ${key}`);
    return value;
  };
  switch (e.model_type) {
    case 'ticket':
      return { params: { id }, resource: `/v0/tickets/${encodeURIComponent(id)}` };
    case 'message': {
      // Found by id alone when no ticket is known: a provider's report about a message the hub does not
      // know, or an event read back from the log (a retry) after its message was deleted, alone or with
      // its ticket, and its model erased. Throwing there would retry the delivery forever.
      const ticket = parentResource(e);
      if (!ticket) return { params: { id }, resource: `/v0/messages/${encodeURIComponent(id)}` };
      const ticketId = ticket.modelId;
      return {
        params: { ticket_id: ticketId, id },
        resource: `/v0/tickets/${encodeURIComponent(ticketId)}/messages/${encodeURIComponent(id)}`,
      };
    }
    case 'subscription':
      return { params: { id }, resource: `/v1/subscriptions/${encodeURIComponent(id)}` };
    case 'survey_response': {
      const surveyId = parent('survey_id');
      return {
        params: { survey_id: surveyId, id },
        resource: `/v0/surveys/${encodeURIComponent(surveyId)}/responses/${encodeURIComponent(id)}`,
      };
    }
    default:
      throw new Error(`${e.model_type} is not a built-in model type; the event catalogue locates it`);
  }
}

/** The location of a resource of a built-in model type (others: `EventCatalogue.locate`). */
export function builtInResourceLocation(e: EventEnvelope): ResourceLocation {
  if (!isBuiltInModelType(e.model_type)) throw new Error(`${e.model_type} is not a built-in model type; the event catalogue locates it`);
  return { ...resourceLocator(e), topic: TOPICS[e.model_type] };
}

/**
 * `status` is the one the event log recorded for this event (see
 * `changeStatusFor`): the type's name alone cannot tell a resource's first
 * event. `location` comes from the event catalogue (`EventCatalogue.locate`).
 */
export function toThinNotification(e: EventEnvelope, status: ChangeStatus, location: ResourceLocation = builtInResourceLocation(e)): ThinNotification {
  const { params, resource, topic } = location;
  return {
    data: { status, params, resource },
    tenant_id: e.account_id,
    topic,
  };
}
