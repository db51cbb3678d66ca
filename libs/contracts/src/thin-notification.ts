import type { EventEnvelope, ModelType } from './envelope';

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

export const TOPICS: Record<ModelType, string> = {
  ticket: 'sac_ticket',
  message: 'sac_message',
  survey_response: 'sac_survey_response',
  subscription: 'hookhub_subscription',
};

/** `*.created` creates, `*.deleted` deletes; every other event changes an existing resource. */
export function changeStatusOf(eventType: string): ChangeStatus {
  if (eventType.endsWith('.created')) return 'CREATION';
  if (eventType.endsWith('.deleted')) return 'DELETION';
  return 'UPDATE';
}

/** The ids that locate a resource, and its path in the `/v0` resource API. */
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
      // A provider's report about a message the hub does not know has no ticket: it is found by id alone.
      if (e.type === 'message.delivery_status' && typeof (e.model?.ticket_id ?? e.data?.ticket_id) !== 'string') {
        return { params: { id }, resource: `/v0/messages/${encodeURIComponent(id)}` };
      }
      const ticketId = parent('ticket_id');
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
  }
}

export function toThinNotification(e: EventEnvelope): ThinNotification {
  const { params, resource } = resourceLocator(e);
  return {
    data: { status: changeStatusOf(e.type), params, resource },
    tenant_id: e.account_id,
    topic: TOPICS[e.model_type],
  };
}
