import { useQuery } from '@tanstack/react-query';
import type { Session } from '../session';
import { enc, get, Health, Page, Subscription, withQuery } from '../api';
import { Loading, PageTitle, Problem, State } from '../components/common';
import { ms, percent } from '../format';
import { href } from '../router';

function HealthCell({ id }: { id: string }) {
  const health = useQuery({ queryKey: ['health', id, 'hour'], queryFn: () => get<Health>(`/v1/subscriptions/${enc(id)}/health?window=hour`) });
  if (!health.data) return <span className="muted">…</span>;
  const h = health.data;
  return (
    <span>
      {h.attempts === 0 ? 'no attempts' : `${percent(h.success_rate)} of ${h.attempts}, p50 ${ms(h.latency_p50_ms)}`}
      {h.backlog > 0 ? `, ${h.backlog} waiting` : ''}
    </span>
  );
}

export function SubscriptionList({ session, cursor }: { session: Session; cursor?: string }) {
  const page = useQuery({
    queryKey: ['subscriptions', cursor ?? null],
    queryFn: () => get<Page<Subscription>>(withQuery('/v1/subscriptions', { limit: 20, cursor })),
  });
  return (
    <>
      <PageTitle title="Subscriptions">Subscriptions</PageTitle>
      {session.isAdmin && (
        <p>
          <a className="button primary" href={href('/subscriptions/new')}>
            New subscription
          </a>
        </p>
      )}
      <Problem error={page.error} />
      {page.isPending ? (
        <Loading what="subscriptions" />
      ) : page.data && page.data.items.length === 0 ? (
        <p>No subscriptions yet.</p>
      ) : (
        page.data && (
          <table className="list">
            <caption className="visually-hidden">Subscriptions, newest first, with their health over the last hour</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Event types</th>
                <th scope="col">State</th>
                <th scope="col">Last hour</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <a href={href(`/subscriptions/${s.id}`)}>{s.url}</a>
                    {s.description && <div className="muted">{s.description}</div>}
                  </td>
                  <td>{s.event_types.join(', ')}</td>
                  <td>
                    <State state={s.state} />
                    {s.state_reason && <div className="muted">{s.state_reason}</div>}
                  </td>
                  <td>
                    <HealthCell id={s.id} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
      <nav aria-label="Pages" className="pager">
        {cursor && <a href={href('/subscriptions')}>First page</a>}
        {page.data?.next_cursor && <a href={href(withQuery('/subscriptions', { cursor: page.data.next_cursor }))}>Next page</a>}
      </nav>
    </>
  );
}
