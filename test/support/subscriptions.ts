import type { ApiClient } from './hub';

/** The body of `POST /v1/subscriptions`: a URL and the event types, plus whatever else a test sets. */
export type SubscriptionRequest = { url: string; event_types: string[] } & Record<string, unknown>;

/** Creates a subscription through the API as a tenant's admin key would; anything but 201 fails the test's set-up. */
export async function createSubscription<T extends object = object>(api: ApiClient, adminKey: string, body: SubscriptionRequest): Promise<T & { id: string }> {
  const res = await api.request<T & { id: string }>('POST', '/v1/subscriptions', { token: adminKey, body });
  if (res.status !== 201) throw new Error(`subscription not created: ${res.status} ${res.text}`);
  return res.body;
}
