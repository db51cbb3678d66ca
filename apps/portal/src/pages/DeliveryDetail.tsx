import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Session } from '../session';
import { Attempt, Delivery, enc, get, post } from '../api';
import { Code, KeyValues, Loading, PageTitle, Problem, State } from '../components/common';
import { ms, when } from '../format';
import { href } from '../router';

function AttemptView({ a }: { a: Attempt }) {
  const id = `attempt-${a.attempt}`;
  return (
    <section className={`attempt attempt-${a.outcome}`} aria-labelledby={id} data-testid="attempt">
      <h3 id={id}>
        Attempt {a.attempt}: {a.outcome}
        {a.response_status !== null ? `, HTTP ${a.response_status}` : ''} in {ms(a.duration_ms)}
      </h3>
      <p className="muted">Started {when(a.started_at)}</p>
      {a.error && (
        <p className="error-text" data-testid="attempt-error">
          Error: {a.error}
        </p>
      )}
      <div className="side-by-side">
        <div>
          <h4>Request</h4>
          <p className="url">POST {a.request_url}</p>
          <KeyValues label="Request headers (custom values and secrets redacted)" values={a.request_headers} />
        </div>
        <div>
          <h4>Response</h4>
          <p>Status {a.response_status ?? '— (no answer)'}</p>
          <KeyValues label="Response headers" values={a.response_headers} />
          <h5>Body (first 4,096 bytes)</h5>
          {a.response_body === null ? <p className="muted">None</p> : <Code label={`Response body of attempt ${a.attempt}`} text={a.response_body} />}
        </div>
      </div>
    </section>
  );
}

export function DeliveryDetail({ session, id }: { session: Session; id: string }) {
  const queries = useQueryClient();
  const delivery = useQuery({
    queryKey: ['delivery', id],
    queryFn: () => get<Delivery & { attempts: Attempt[] }>(`/v1/deliveries/${enc(id)}`),
    refetchInterval: 3_000,
  });
  const event = useQuery({
    queryKey: ['event', delivery.data?.event_url],
    queryFn: () => get<Record<string, unknown>>(delivery.data!.event_url),
    enabled: delivery.data !== undefined,
  });
  const retry = useMutation({
    mutationFn: () => post<Delivery>(`/v1/deliveries/${enc(id)}/retry`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['delivery', id] }),
  });
  if (delivery.isPending) return <Loading what="the delivery" />;
  if (!delivery.data) return <Problem error={delivery.error} />;
  const d = delivery.data;
  return (
    <>
      <PageTitle title="Delivery">Delivery of {d.event_type}</PageTitle>
      <p>
        <a href={href(`/subscriptions/${d.subscription_id}/deliveries`)}>Back to the delivery log</a>
      </p>
      <p>
        <State state={d.status} /> {d.reason && <span>{d.reason}</span>}
      </p>
      {session.isAdmin && (
        <p>
          <button type="button" onClick={() => retry.mutate()} disabled={retry.isPending}>
            Retry now
          </button>
          <span aria-live="polite">{retry.isSuccess ? ' Queued: it is sent again within a second.' : ''}</span>
        </p>
      )}
      <Problem error={retry.error} />
      <KeyValues
        label="Delivery"
        values={{
          id: d.id,
          event: d.event_id,
          attempts: d.attempt_count,
          'last status': d.last_status_code,
          'next attempt': d.next_attempt_at ? when(d.next_attempt_at) : '—',
          delivered: d.delivered_at ? when(d.delivered_at) : '—',
          created: when(d.created_at),
        }}
      />
      <h2>Attempts</h2>
      {d.attempts.length === 0 ? <p>No attempt yet.</p> : d.attempts.map((a) => <AttemptView key={`${a.attempt}-${a.started_at}`} a={a} />)}
      <h2>Event</h2>
      <p className="muted">The event as the event log recorded it: every attempt sends this envelope (full format) or the thin notification made from it.</p>
      {event.data ? <Code label="Event" value={event.data} /> : <Problem error={event.error} />}
    </>
  );
}
