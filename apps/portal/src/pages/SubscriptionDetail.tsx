import { FormEvent, useId, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Session } from '../session';
import { del, enc, get, Health, post, Subscription } from '../api';
import { TimeChart } from '../components/chart';
import { Code, Confirm, KeyValues, Loading, OnceSecret, PageTitle, Problem, State } from '../components/common';
import { fromLocalInput, ms, percent, toLocalInput, when } from '../format';
import { href, navigate } from '../router';

function HealthPanel({ id }: { id: string }) {
  const [span, setSpan] = useState<'hour' | 'day'>('hour');
  const health = useQuery({
    queryKey: ['health', id, span],
    queryFn: () => get<Health>(`/v1/subscriptions/${enc(id)}/health?window=${span}`),
    refetchInterval: 5_000,
  });
  const h = health.data;
  const series = useMemo(() => {
    if (!h) return null;
    const times = h.buckets.map((b) => Date.parse(b.start) / 1000);
    return {
      times,
      rate: [
        {
          label: 'Success rate',
          unit: ' %',
          stroke: '#1a7f37',
          values: h.buckets.map((b) => (b.success_rate === null ? null : Math.round(b.success_rate * 1000) / 10)),
        },
      ],
      latency: [
        { label: 'p50', unit: ' ms', stroke: '#0550ae', values: h.buckets.map((b) => b.latency_p50_ms) },
        { label: 'p99', unit: ' ms', stroke: '#8250df', values: h.buckets.map((b) => b.latency_p99_ms) },
      ],
      attempts: [
        { label: 'Successes', stroke: '#1a7f37', values: h.buckets.map((b) => b.successes) },
        { label: 'Failures', stroke: '#cf222e', values: h.buckets.map((b) => b.failures) },
      ],
    };
  }, [h]);
  return (
    <section aria-labelledby="health-title">
      <h2 id="health-title">Health</h2>
      <fieldset className="inline">
        <legend>Window</legend>
        {(['hour', 'day'] as const).map((w) => (
          <label key={w}>
            <input type="radio" name="window" value={w} checked={span === w} onChange={() => setSpan(w)} />
            Last {w}
          </label>
        ))}
      </fieldset>
      <Problem error={health.error} />
      {!h || !series ? (
        <Loading what="health" />
      ) : (
        <>
          <dl className="figures" data-testid="health-figures">
            <div>
              <dt>Success rate</dt>
              <dd data-testid="success-rate">{percent(h.success_rate)}</dd>
            </div>
            <div>
              <dt>Attempts</dt>
              <dd data-testid="attempts">{h.attempts}</dd>
            </div>
            <div>
              <dt>Failures</dt>
              <dd data-testid="failures">{h.failures}</dd>
            </div>
            <div>
              <dt>Latency p50 / p99</dt>
              <dd>
                {ms(h.latency_p50_ms)} / {ms(h.latency_p99_ms)}
              </dd>
            </div>
            <div>
              <dt>Waiting (backlog)</dt>
              <dd data-testid="backlog">{h.backlog}</dd>
            </div>
          </dl>
          <div className="charts">
            <TimeChart title="Success rate" times={series.times} series={series.rate} yRange={[0, 100]} />
            <TimeChart title="Latency" times={series.times} series={series.latency} />
            <TimeChart title="Attempts" times={series.times} series={series.attempts} />
          </div>
          <details>
            <summary>Figures per {h.window === 'hour' ? '5 minutes' : 'hour'}</summary>
            <table className="list">
              <caption className="visually-hidden">Attempts, success rate and latency per bucket</caption>
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Failures</th>
                  <th scope="col">Success rate</th>
                  <th scope="col">p50</th>
                  <th scope="col">p99</th>
                </tr>
              </thead>
              <tbody>
                {h.buckets.map((b) => (
                  <tr key={b.start}>
                    <td>{when(b.start)}</td>
                    <td>{b.attempts}</td>
                    <td>{b.failures}</td>
                    <td>{percent(b.success_rate)}</td>
                    <td>{ms(b.latency_p50_ms)}</td>
                    <td>{ms(b.latency_p99_ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

type Dialog = 'delete' | 'disable' | 'rotate' | null;

function Actions({ sub }: { sub: Subscription }) {
  const queries = useQueryClient();
  const uid = useId();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [secret, setSecret] = useState<{ secret: string; until: string } | null>(null);
  const [since, setSince] = useState(toLocalInput(new Date(Date.now() - 3_600_000)));
  const [onlyFailed, setOnlyFailed] = useState(false);
  const refresh = () => queries.invalidateQueries();
  const base = `/v1/subscriptions/${enc(sub.id)}`;

  const test = useMutation({
    mutationFn: () =>
      post<{ delivered: boolean; response_status: number | null; duration_ms: number; response_body: string | null; error: string | null }>(`${base}/test`),
  });
  const verify = useMutation({ mutationFn: () => post<{ verified: boolean; error: string | null }>(`${base}/verify`), onSuccess: refresh });
  const toggle = useMutation({ mutationFn: (to: 'enable' | 'disable') => post<Subscription>(`${base}/${to}`), onSuccess: refresh });
  const rotate = useMutation({
    mutationFn: () => post<{ secret: string; previous_secret_expires_at: string }>(`${base}/rotate-secret`, {}),
    onSuccess: (r) => setSecret({ secret: r.secret, until: r.previous_secret_expires_at }),
  });
  const remove = useMutation({
    mutationFn: () => del(base),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['subscriptions'] });
      navigate('/subscriptions');
    },
  });
  const replay = useMutation({ mutationFn: (body: { since: string; only_failed: boolean }) => post<{ queued: number }>(`${base}/replay`, body) });

  const submitReplay = (e: FormEvent) => {
    e.preventDefault();
    const at = fromLocalInput(since);
    if (at) replay.mutate({ since: at, only_failed: onlyFailed });
  };

  return (
    <section aria-labelledby={`${uid}-actions`}>
      <h2 id={`${uid}-actions`}>Actions</h2>
      <div className="actions wrap">
        <a className="button" href={href(`/subscriptions/${sub.id}/edit`)}>
          Edit
        </a>
        <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
          Send test event
        </button>
        {sub.has_verify_token && (
          <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
            Verify again
          </button>
        )}
        <button type="button" onClick={() => setDialog('rotate')}>
          Rotate secret
        </button>
        {sub.state === 'disabled' ? (
          <button type="button" onClick={() => toggle.mutate('enable')}>
            Enable
          </button>
        ) : (
          <button type="button" onClick={() => setDialog('disable')}>
            Disable
          </button>
        )}
        <button type="button" className="danger" onClick={() => setDialog('delete')}>
          Delete
        </button>
      </div>
      <div aria-live="polite">
        {test.data && (
          <div className="result" data-testid="test-result">
            <p>
              Test event {test.data.delivered ? 'delivered' : 'not delivered'}: status {test.data.response_status ?? '—'} in {ms(test.data.duration_ms)}
              {test.data.error ? ` — ${test.data.error}` : ''}
            </p>
            {test.data.response_body !== null && <Code label="The endpoint's answer" text={test.data.response_body} />}
          </div>
        )}
        {verify.data && (
          <p className="result">
            {verify.data.verified ? 'Verified: the endpoint echoed the challenge.' : `Not verified: ${verify.data.error ?? 'no reason given'}`}
          </p>
        )}
        {replay.data && <p className="result">{replay.data.queued} deliveries queued to be sent again.</p>}
      </div>
      {[test, verify, toggle, rotate, remove, replay].map((m, i) => (
        <Problem key={i} error={m.error} />
      ))}
      {secret && (
        <OnceSecret
          secret={secret.secret}
          label={`New signing secret (the previous one also signs until ${when(secret.until)})`}
          onDone={() => setSecret(null)}
        />
      )}
      <form className="form inline-form" onSubmit={submitReplay} aria-labelledby={`${uid}-replay`}>
        <h3 id={`${uid}-replay`}>Replay</h3>
        <label htmlFor={`${uid}-since`}>Send again since</label>
        <input id={`${uid}-since`} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} required />
        <label>
          <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.target.checked)} /> Only failed deliveries
        </label>
        <button type="submit" disabled={replay.isPending}>
          Replay
        </button>
      </form>
      <Confirm
        open={dialog === 'delete'}
        title="Delete this subscription?"
        confirmLabel="Delete"
        danger
        onCancel={() => setDialog(null)}
        onConfirm={() => (setDialog(null), remove.mutate())}
      >
        <p>Nothing more is sent to {sub.url}, and its delivery log is deleted too. Disable it instead to keep the log.</p>
      </Confirm>
      <Confirm
        open={dialog === 'disable'}
        title="Disable this subscription?"
        confirmLabel="Disable"
        onCancel={() => setDialog(null)}
        onConfirm={() => (setDialog(null), toggle.mutate('disable'))}
      >
        <p>Delivery stops and waiting retries are cancelled. Enabling it again resumes delivery.</p>
      </Confirm>
      <Confirm
        open={dialog === 'rotate'}
        title="Rotate the signing secret?"
        confirmLabel="Rotate"
        onCancel={() => setDialog(null)}
        onConfirm={() => (setDialog(null), rotate.mutate())}
      >
        <p>A new secret is generated and shown once. The current one keeps signing beside it for the overlap (a day by default).</p>
      </Confirm>
    </section>
  );
}

export function SubscriptionDetail({ session, id }: { session: Session; id: string }) {
  const sub = useQuery({ queryKey: ['subscription', id], queryFn: () => get<Subscription>(`/v1/subscriptions/${enc(id)}`), refetchInterval: 5_000 });
  if (sub.isPending) return <Loading what="the subscription" />;
  if (!sub.data) return <Problem error={sub.error} />;
  const s = sub.data;
  return (
    <>
      <PageTitle title="Subscription">Subscription</PageTitle>
      <p className="url">{s.url}</p>
      <p>
        <State state={s.state} /> {s.state_reason && <span data-testid="state-reason">{s.state_reason}</span>}
      </p>
      <p>
        <a href={href(`/subscriptions/${s.id}/deliveries`)}>Delivery log</a>
      </p>
      <HealthPanel id={s.id} />
      {session.isAdmin && <Actions sub={s} />}
      <section aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <KeyValues
          label="Settings"
          values={{
            id: s.id,
            'event types': s.event_types.join(', '),
            format: s.format,
            'signature scheme': s.signature_scheme,
            ordering: s.ordering,
            'retry delays (ms)': s.retry_policy_ms.join(', '),
            'custom headers': Object.keys(s.headers).join(', ') || '—',
            'verify token': s.has_verify_token ? 'set' : 'none',
            'consecutive failures': s.consecutive_failures,
            'failing since': s.failing_since ? when(s.failing_since) : '—',
            'disabled at': s.disabled_at ? when(s.disabled_at) : '—',
            'filtered out': s.filtered_count,
            'API key': s.api_key_id,
            created: when(s.created_at),
            description: s.description,
          }}
        />
        {s.filter && (
          <>
            <h3>Payload filter</h3>
            <Code label="Payload filter" value={s.filter} />
          </>
        )}
        {s.schema_versions && (
          <>
            <h3>Schema versions</h3>
            <Code label="Schema versions" value={s.schema_versions} />
          </>
        )}
      </section>
    </>
  );
}
