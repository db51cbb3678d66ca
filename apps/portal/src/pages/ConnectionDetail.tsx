import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Session } from '../session';
import { Callback, CallbackDetail, Connection, del, enc, get, Page, post } from '../api';
import { Code, Confirm, KeyValues, Loading, PageTitle, Problem, State } from '../components/common';
import { when } from '../format';
import { href, navigate } from '../router';

function CallbackBody({ connectionId, id }: { connectionId: string; id: string }) {
  const cb = useQuery({ queryKey: ['callback', id], queryFn: () => get<CallbackDetail>(`/v1/provider-connections/${enc(connectionId)}/callbacks/${enc(id)}`) });
  if (!cb.data) return cb.error ? <Problem error={cb.error} /> : <Loading what="the callback" />;
  return (
    <>
      <KeyValues label="Headers as received, without credentials" values={cb.data.headers} />
      <Code label={`Body (${cb.data.body_encoding})`} text={cb.data.body} />
    </>
  );
}

export function ConnectionDetail({ session, id }: { session: Session; id: string }) {
  const queries = useQueryClient();
  const [confirm, setConfirm] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const base = `/v1/provider-connections/${enc(id)}`;
  const conn = useQuery({ queryKey: ['connection', id], queryFn: () => get<Connection>(base) });
  const callbacks = useQuery({ queryKey: ['callbacks', id], queryFn: () => get<Page<Callback>>(`${base}/callbacks?limit=50`), refetchInterval: 5_000 });
  const reprocess = useMutation({
    mutationFn: (cid: string) => post<Callback>(`${base}/callbacks/${enc(cid)}/reprocess`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['callbacks', id] }),
  });
  const remove = useMutation({
    mutationFn: () => del(base),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['connections'] });
      navigate('/connections');
    },
  });
  if (conn.isPending) return <Loading what="the connection" />;
  if (!conn.data) return <Problem error={conn.error} />;
  const c = conn.data;
  return (
    <>
      <PageTitle title="Provider connection">
        {c.provider} connection{c.name ? `: ${c.name}` : ''}
      </PageTitle>
      <p>
        <a href={href('/connections')}>All connections</a>
      </p>
      <h2>Ingest URL</h2>
      <p>Paste this into the provider's console as the webhook URL:</p>
      <p className="url" data-testid="ingest-url">
        {c.ingest_url}
      </p>
      <KeyValues
        label="Connection"
        values={{
          id: c.id,
          provider: c.provider,
          'public URL': c.public_url,
          'secrets set': c.secrets_set.join(', ') || '—',
          ...Object.fromEntries(Object.entries(c.credentials).map(([k, v]) => [`credential ${k}`, v])),
          created: when(c.created_at),
        }}
      />
      {session.isAdmin && (
        <p>
          <button type="button" className="danger" onClick={() => setConfirm(true)}>
            Delete connection
          </button>
        </p>
      )}
      <Problem error={remove.error} />
      <h2>Callbacks</h2>
      <Problem error={callbacks.error ?? reprocess.error} />
      {callbacks.data && callbacks.data.items.length === 0 && <p>No callbacks stored yet.</p>}
      {callbacks.data?.items.map((cb) => (
        <section key={cb.id} className="callback" aria-label={`Callback received ${when(cb.received_at)}`}>
          <p>
            <State state={cb.state} /> {cb.method} received {when(cb.received_at)}, {cb.attempts} processing attempt(s)
            {cb.event_ids.length > 0 ? `, events ${cb.event_ids.join(', ')}` : ''}
          </p>
          {cb.last_error && <p className="error-text">Error: {cb.last_error}</p>}
          <div className="actions">
            <button type="button" aria-expanded={open === cb.id} onClick={() => setOpen(open === cb.id ? null : cb.id)}>
              {open === cb.id ? 'Hide what was received' : 'Show what was received'}
            </button>
            {session.isAdmin && (
              <button type="button" onClick={() => reprocess.mutate(cb.id)}>
                Reprocess
              </button>
            )}
          </div>
          {open === cb.id && <CallbackBody connectionId={id} id={cb.id} />}
        </section>
      ))}
      <Confirm
        open={confirm}
        title="Delete this connection?"
        confirmLabel="Delete"
        danger
        onCancel={() => setConfirm(false)}
        onConfirm={() => (setConfirm(false), remove.mutate())}
      >
        <p>The provider's callbacks to its ingest URL will be refused from now on, and its stored callbacks deleted.</p>
      </Confirm>
    </>
  );
}
