import { FormEvent, useId, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { Session } from '../session';
import { Delivery, enc, EventType, get, Page, Subscription, withQuery } from '../api';
import { Loading, PageTitle, Problem, State } from '../components/common';
import { fromLocalInput, when } from '../format';
import { href } from '../router';

const STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'blocked', 'cancelled'];

interface Filters {
  status: string;
  event_type: string;
  since: string;
  until: string;
}

/** A subscription's deliveries, newest first, filtered, in keyset pages (the API's cursors: fast however long the log is). */
export function DeliveryLog({ subscriptionId }: { session: Session; subscriptionId: string }) {
  const uid = useId();
  const [draft, setDraft] = useState<Filters>({ status: '', event_type: '', since: '', until: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  // The cursors of the pages before this one: Newer goes back one, Older forward with next_cursor.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const sub = useQuery({ queryKey: ['subscription', subscriptionId], queryFn: () => get<Subscription>(`/v1/subscriptions/${enc(subscriptionId)}`) });
  const catalogue = useQuery({ queryKey: ['event-types'], queryFn: () => get<Page<EventType>>('/v1/event-types') });
  const page = useQuery({
    queryKey: ['deliveries', subscriptionId, filters, cursor ?? null],
    queryFn: () =>
      get<Page<Delivery>>(
        withQuery(`/v1/subscriptions/${enc(subscriptionId)}/deliveries`, {
          limit: 25,
          cursor,
          status: filters.status,
          event_type: filters.event_type.trim(),
          since: fromLocalInput(filters.since),
          until: fromLocalInput(filters.until),
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: cursor ? false : 3_000,
  });

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setCursors([]);
    setFilters(draft);
  };
  const field = (k: keyof Filters) => ({
    id: `${uid}-${k}`,
    name: k,
    value: draft[k],
    onChange: (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value })),
  });

  return (
    <>
      <PageTitle title="Delivery log">Delivery log</PageTitle>
      <p>
        <a href={href(`/subscriptions/${subscriptionId}`)}>Back to the subscription</a>
        {sub.data ? ` · ${sub.data.url}` : ''}
      </p>
      <form className="filters" onSubmit={apply} aria-label="Filters">
        <div className="field">
          <label htmlFor={`${uid}-status`}>Status</label>
          <select {...field('status')}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-event_type`}>Event type</label>
          <input {...field('event_type')} list={`${uid}-types`} placeholder="any" />
          <datalist id={`${uid}-types`}>
            {catalogue.data?.items.map((t) => (
              <option key={t.type} value={t.type} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-since`}>From</label>
          <input type="datetime-local" {...field('since')} />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-until`}>Until</label>
          <input type="datetime-local" {...field('until')} />
        </div>
        <button type="submit">Apply filters</button>
      </form>
      <Problem error={page.error} />
      {page.isPending ? (
        <Loading what="deliveries" />
      ) : page.data && page.data.items.length === 0 ? (
        <p>No deliveries match.</p>
      ) : (
        page.data && (
          <table className="list" data-testid="deliveries">
            <caption className="visually-hidden">Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <a href={href(`/deliveries/${d.id}`)}>{when(d.created_at)}</a>
                  </td>
                  <td>
                    {d.event_type}
                    <div className="muted">{d.event_id}</div>
                  </td>
                  <td>
                    <State state={d.status} />
                    {d.next_attempt_at && <div className="muted">next {when(d.next_attempt_at)}</div>}
                  </td>
                  <td>{d.attempt_count}</td>
                  <td>
                    {d.last_status_code ?? '—'}
                    {d.reason && <div className="muted">{d.reason}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
      <nav aria-label="Pages" className="pager">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={!page.data?.next_cursor} onClick={() => page.data?.next_cursor && setCursors((c) => [...c, page.data.next_cursor!])}>
          Older
        </button>
      </nav>
    </>
  );
}
