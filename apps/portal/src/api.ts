/** The portal talks only to the public /v1 API of the hub that served it, with the signed-in credential as a bearer token. */

const TOKEN_KEY = 'hookhub.portal.token';

/** An RFC 9457 problem the API answered with, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: Array<{ pointer?: string; detail?: string }> = [],
    readonly type?: string,
  ) {
    super(detail || title);
  }
}

/** The credential lives in sessionStorage: gone when the tab closes, never in a cookie (so no CSRF), never in the URL after sign-in. */
export const credential = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

type Listener = (error: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();
/** Called when a request comes back 401: the session expired or was revoked, or the key was revoked. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function api<T>(method: string, path: string, body?: unknown, token = credential.get()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, 'Network error', err instanceof Error ? err.message : String(err));
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): the status and text say what happened.
  }
  if (!res.ok) {
    const p = (parsed ?? {}) as { title?: string; detail?: string; errors?: ApiError['errors']; type?: string };
    const error = new ApiError(res.status, p.title ?? res.statusText, p.detail ?? text.slice(0, 500), Array.isArray(p.errors) ? p.errors : [], p.type);
    // Only the signed-in credential's 401 signs out; a sign-in attempt's own 401 is just its answer.
    if (res.status === 401 && token !== null && token === credential.get()) for (const l of unauthorizedListeners) l(error);
    throw error;
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = (path: string) => api<void>('DELETE', path);

/** `/v1/…` with query parameters, leaving out the empty ones. */
export function withQuery(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const enc = encodeURIComponent;

/* ------------------------------------------------------------ API shapes */

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Me {
  tenant_id: string;
  api_key_id: string;
  roles: string[];
  session: { id: string; role: string; expires_at: string } | null;
}

export interface Subscription {
  id: string;
  url: string;
  event_types: string[];
  model_ids: string[] | null;
  schema_versions: Record<string, number[]> | null;
  filter: Record<string, unknown> | null;
  filtered_count: number;
  rate_limit: { per_second: number; burst: number } | null;
  format: string;
  signature_scheme: string;
  ordering: string;
  headers: Record<string, string>;
  retry_policy_ms: number[];
  has_verify_token: boolean;
  state: string;
  state_reason: string | null;
  api_key_id: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  disable_after_failing_ms: number | null;
  disabled_at: string | null;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface Stats {
  attempts: number;
  successes: number;
  failures: number;
  success_rate: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}

export interface Health extends Stats {
  window: 'hour' | 'day';
  since: string;
  until: string;
  bucket_ms: number;
  buckets: Array<Stats & { start: string }>;
  backlog: number;
  state: string;
  state_reason: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  disabled_at: string | null;
}

export interface Delivery {
  id: string;
  subscription_id: string;
  event_id: string;
  event_url: string;
  event_type: string;
  status: string;
  attempt_count: number;
  last_status_code: number | null;
  reason: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  attempt: number;
  outcome: string;
  started_at: string;
  duration_ms: number;
  request_url: string;
  request_headers: Record<string, string>;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error: string | null;
}

export interface EventTypeVersion {
  version: number;
  deprecated: boolean;
  created_at: string | null;
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
  delivered_example: Record<string, unknown>;
  thin_example: Record<string, unknown>;
}

export interface EventType {
  type: string;
  description: string;
  scope: string;
  model_type: string;
  resource_path: string;
  topic: string;
  deprecated: boolean;
  latest_version: number;
  versions: EventTypeVersion[];
}

export interface ProviderDescription {
  provider: string;
  credentials: Record<string, { required?: boolean; secret?: boolean; description?: string; choices?: string[] }>;
  accepts_get: boolean;
}

export interface Connection {
  id: string;
  provider: string;
  name: string | null;
  ingest_path: string;
  ingest_url: string;
  public_url: string | null;
  credentials: Record<string, string>;
  secrets_set: string[];
  status_map: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export interface Callback {
  id: string;
  connection_id: string;
  provider: string;
  method: string;
  url: string;
  received_at: string;
  state: string;
  attempts: number;
  last_error: string | null;
  event_ids: string[];
  processed_at: string | null;
}

export interface CallbackDetail extends Callback {
  headers: Record<string, string>;
  body: string;
  body_encoding: 'utf8' | 'base64';
}
