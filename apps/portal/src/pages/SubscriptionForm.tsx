import { FormEvent, ReactNode, useEffect, useId, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Session } from '../session';
import { ApiError, enc, EventType, get, Page, patch, post, Subscription } from '../api';
import { Loading, OnceSecret, PageTitle, Problem } from '../components/common';
import { json } from '../format';
import { href, navigate } from '../router';

interface Fields {
  url: string;
  description: string;
  event_types: string[];
  format: string;
  signature_scheme: string;
  secret: string;
  ordering: string;
  headers: string;
  retry_policy_ms: string;
  filter: string;
  schema_versions: string;
  rate_per_second: string;
  rate_burst: string;
  verify_token: string;
}

const EMPTY: Fields = {
  url: '',
  description: '',
  event_types: [],
  format: 'full',
  signature_scheme: 'sha256',
  secret: '',
  ordering: 'default',
  headers: '',
  retry_policy_ms: '',
  filter: '',
  schema_versions: '',
  rate_per_second: '',
  rate_burst: '',
  verify_token: '',
};

function fieldsOf(s: Subscription): Fields {
  return {
    ...EMPTY,
    url: s.url,
    description: s.description ?? '',
    event_types: s.event_types,
    format: s.format,
    signature_scheme: s.signature_scheme,
    ordering: s.ordering,
    retry_policy_ms: s.retry_policy_ms.join(', '),
    filter: s.filter ? json(s.filter) : '',
    schema_versions: s.schema_versions ? json(s.schema_versions) : '',
    rate_per_second: s.rate_limit ? String(s.rate_limit.per_second) : '',
    rate_burst: s.rate_limit ? String(s.rate_limit.burst) : '',
  };
}

/** `Name: value` lines as a header map. */
function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf(':');
    if (at <= 0)
      throw new ApiError(0, 'Invalid headers', `"${line.trim()}" is not "Name: value"`, [{ pointer: '#/headers', detail: 'one "Name: value" per line' }]);
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

function parseJson(text: string, field: string): Record<string, unknown> | null {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ApiError(0, 'Invalid JSON', `${field}: ${err instanceof Error ? err.message : String(err)}`, [{ pointer: `#/${field}`, detail: 'must be JSON' }]);
  }
}

function parseDelays(text: string): number[] | undefined {
  if (!text.trim()) return undefined;
  return text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((v) => (/^\d+$/.test(v) ? Number(v) : NaN));
}

/** Event type choices from the catalogue: each type, each group's wildcard, and everything. */
function EventTypePicker({ value, onChange, invalid }: { value: string[]; onChange: (v: string[]) => void; invalid: boolean }) {
  const catalogue = useQuery({ queryKey: ['event-types'], queryFn: () => get<Page<EventType>>('/v1/event-types') });
  if (catalogue.isPending) return <Loading what="the event catalogue" />;
  const types = catalogue.data?.items.map((t) => t.type) ?? [];
  const groups = [...new Set(types.map((t) => t.split('.')[0]))];
  const toggle = (t: string, on: boolean) => onChange(on ? [...value, t] : value.filter((v) => v !== t));
  const choices = ['*', ...groups.flatMap((g) => [`${g}.*`, ...types.filter((t) => t.startsWith(`${g}.`))])];
  // Patterns the subscription has that the catalogue no longer lists stay choosable.
  for (const v of value) if (!choices.includes(v)) choices.push(v);
  return (
    <fieldset className="choices" aria-invalid={invalid || undefined}>
      <legend>Event types (from the catalogue)</legend>
      <Problem error={catalogue.error} />
      {choices.map((t) => (
        <label key={t} className={t.endsWith('*') ? 'wildcard' : undefined}>
          <input type="checkbox" name="event_types" value={t} checked={value.includes(t)} onChange={(e) => toggle(t, e.target.checked)} />
          {t === '*' ? '* (every type)' : t}
        </label>
      ))}
    </fieldset>
  );
}

function Field({ label, hint, children, htmlFor }: { label: string; hint?: ReactNode; children: ReactNode; htmlFor: string }) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint && (
        <p className="hint" id={`${htmlFor}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

export function SubscriptionForm({ session, id }: { session: Session; id?: string }) {
  const uid = useId();
  const queries = useQueryClient();
  const existing = useQuery({ queryKey: ['subscription', id], queryFn: () => get<Subscription>(`/v1/subscriptions/${enc(id!)}`), enabled: id !== undefined });
  const [f, setF] = useState<Fields>(EMPTY);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  const [filled, setFilled] = useState(false);
  useEffect(() => {
    // Filled once, and not from a cached copy being fetched again: that copy may predate the last
    // save, and the fetch landing later would overwrite what was typed meanwhile. Until then the
    // form is not shown: its first render would show empty fields (the effect runs after it).
    if (filled || !existing.data || existing.isFetching) return;
    setF(fieldsOf(existing.data));
    setFilled(true);
  }, [existing.data, existing.isFetching, filled]);

  if (!session.isAdmin) return <Problem error={new ApiError(403, 'Forbidden', 'Only an admin may create or change subscriptions')} />;
  if (id && existing.isError && !filled) return <Problem error={existing.error} />;
  if (id && !filled) return <Loading what="the subscription" />;
  if (created) {
    return (
      <>
        <PageTitle title="Subscription created">Subscription created</PageTitle>
        <OnceSecret secret={created.secret} label="Signing secret" onDone={() => navigate(`/subscriptions/${created.id}`)} />
      </>
    );
  }

  const set =
    <K extends keyof Fields>(k: K) =>
    (v: Fields[K]) =>
      setF((old) => ({ ...old, [k]: v }));
  const pointers = new Set(error instanceof ApiError ? error.errors.map((e) => (e.pointer ?? '').split('/')[1]) : []);
  // The API's unsafe-url problem names no field pointer: its detail (the reason) is about the URL.
  if (error instanceof ApiError && error.type?.endsWith('/unsafe-url')) pointers.add('url');
  const invalid = (k: string) => (pointers.has(k) ? true : undefined);
  const input = (k: keyof Fields, extra: Record<string, unknown> = {}) => ({
    id: `${uid}-${k}`,
    name: k,
    value: f[k] as string,
    onChange: (e: { target: { value: string } }) => set(k)(e.target.value as never),
    'aria-invalid': invalid(k),
    ...extra,
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body: Record<string, unknown> = {
        url: f.url.trim(),
        event_types: f.event_types,
        format: f.format,
        ordering: f.ordering,
        description: f.description || (id ? null : undefined),
        filter: parseJson(f.filter, 'filter') ?? (id ? null : undefined),
        schema_versions: parseJson(f.schema_versions, 'schema_versions') ?? (id ? null : undefined),
        retry_policy_ms: parseDelays(f.retry_policy_ms),
        // Empty: no limit (on an edit, the limit is removed); the API checks the numbers and names a bad one.
        rate_limit: f.rate_per_second.trim()
          ? { per_second: Number(f.rate_per_second), ...(f.rate_burst.trim() ? { burst: Number(f.rate_burst) } : {}) }
          : id
            ? null
            : undefined,
        verify_token: f.verify_token || undefined,
      };
      if (f.headers.trim()) body.headers = parseHeaders(f.headers);
      if (!id) {
        body.signature_scheme = f.signature_scheme;
        if (f.secret) body.secret = f.secret;
        const made = await post<Subscription & { secret: string }>('/v1/subscriptions', body);
        await queries.invalidateQueries({ queryKey: ['subscriptions'] });
        setCreated({ id: made.id, secret: made.secret });
      } else {
        if (body.url === existing.data?.url) delete body.url;
        await patch<Subscription>(`/v1/subscriptions/${enc(id)}`, body);
        await queries.invalidateQueries();
        navigate(`/subscriptions/${id}`);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const title = id ? 'Edit subscription' : 'New subscription';
  return (
    <>
      <PageTitle title={title}>{title}</PageTitle>
      <form onSubmit={(e) => void submit(e)} className="form" noValidate>
        <Field
          label="Endpoint URL"
          htmlFor={`${uid}-url`}
          hint="Checked as the API checks it: https, resolving only to public addresses (unless this hub allows others)."
        >
          <input {...input('url', { required: true, inputMode: 'url', 'aria-describedby': `${uid}-url-hint` })} />
        </Field>
        <Field label="Description" htmlFor={`${uid}-description`}>
          <input {...input('description')} />
        </Field>
        <EventTypePicker value={f.event_types} onChange={set('event_types')} invalid={pointers.has('event_types')} />
        <Field label="Payload format" htmlFor={`${uid}-format`} hint="Full: the whole event. Thin: what changed and where to read it.">
          <select {...input('format', { 'aria-describedby': `${uid}-format-hint` })}>
            <option value="full">full</option>
            <option value="thin">thin</option>
          </select>
        </Field>
        {!id && (
          <>
            <Field label="Signature scheme" htmlFor={`${uid}-signature_scheme`}>
              <select {...input('signature_scheme')}>
                <option value="sha256">sha256 (X-Webhook-Signature)</option>
                <option value="enchant">enchant (Enchant-Signature)</option>
                <option value="standard-webhooks">standard-webhooks (webhook-signature)</option>
              </select>
            </Field>
            <Field label="Secret (optional)" htmlFor={`${uid}-secret`} hint="Generated when empty; whsec_… for standard-webhooks. Shown once after saving.">
              <input {...input('secret', { type: 'password', autoComplete: 'new-password', 'aria-describedby': `${uid}-secret-hint` })} />
            </Field>
          </>
        )}
        <Field label="Ordering" htmlFor={`${uid}-ordering`} hint="Strict: a resource's deliveries also wait while an earlier one is retrying.">
          <select {...input('ordering', { 'aria-describedby': `${uid}-ordering-hint` })}>
            <option value="default">default</option>
            <option value="strict">strict</option>
          </select>
        </Field>
        <Field
          label="Custom headers"
          htmlFor={`${uid}-headers`}
          hint={
            id && existing.data && Object.keys(existing.data.headers).length > 0
              ? `One "Name: value" per line. Now set: ${Object.keys(existing.data.headers).join(', ')} (values are never shown); leave empty to keep them.`
              : 'One "Name: value" per line.'
          }
        >
          <textarea {...input('headers', { rows: 3, 'aria-describedby': `${uid}-headers-hint` })} />
        </Field>
        <Field label="Retry delays (ms)" htmlFor={`${uid}-retry_policy_ms`} hint="Comma-separated delays before each retry; empty: the hub's default schedule.">
          <input {...input('retry_policy_ms', { 'aria-describedby': `${uid}-retry_policy_ms-hint` })} />
        </Field>
        <Field
          label="Payload filter (JSON)"
          htmlFor={`${uid}-filter`}
          hint='MongoDB query syntax on the envelope, e.g. {"model.priority": {"$in": ["high"]}}; empty: none.'
        >
          <textarea {...input('filter', { rows: 4, className: 'mono', 'aria-describedby': `${uid}-filter-hint` })} />
        </Field>
        <Field
          label="Schema versions (JSON)"
          htmlFor={`${uid}-schema_versions`}
          hint='Per event type, the versions to receive, e.g. {"order.created": [1]}; empty: every version.'
        >
          <textarea {...input('schema_versions', { rows: 3, className: 'mono', 'aria-describedby': `${uid}-schema_versions-hint` })} />
        </Field>
        <Field
          label="Rate limit (deliveries per second)"
          htmlFor={`${uid}-rate_per_second`}
          hint="Summed over every dispatcher; deliveries over it wait their turn, in order. Empty: no limit."
        >
          <input {...input('rate_per_second', { inputMode: 'numeric', 'aria-describedby': `${uid}-rate_per_second-hint` })} />
        </Field>
        <Field label="Burst" htmlFor={`${uid}-rate_burst`} hint="Most deliveries in any one second; at least the rate. Empty: the rate.">
          <input {...input('rate_burst', { inputMode: 'numeric', 'aria-describedby': `${uid}-rate_burst-hint` })} />
        </Field>
        <Field label="Verify token (optional)" htmlFor={`${uid}-verify_token`} hint="When set, the endpoint must echo a challenge before it gets events.">
          <input {...input('verify_token', { 'aria-describedby': `${uid}-verify_token-hint` })} />
        </Field>
        <Problem error={error} label={id ? 'Not saved' : 'Not created'} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {id ? 'Save' : 'Create subscription'}
          </button>
          <a href={href(id ? `/subscriptions/${id}` : '/subscriptions')}>Cancel</a>
        </div>
      </form>
    </>
  );
}
