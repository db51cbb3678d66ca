import { FormEvent, useId, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Session } from '../session';
import { Connection, get, Page, post, ProviderDescription } from '../api';
import { Loading, PageTitle, Problem } from '../components/common';
import { when } from '../format';
import { href, navigate } from '../router';

function CreateConnection() {
  const uid = useId();
  const queries = useQueryClient();
  const providers = useQuery({ queryKey: ['providers'], queryFn: () => get<Page<ProviderDescription>>('/v1/providers') });
  const [provider, setProvider] = useState('');
  const [name, setName] = useState('');
  const [publicUrl, setPublicUrl] = useState('');
  const [credentials, setCredentials] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const spec = providers.data?.items.find((p) => p.provider === provider);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const filled = Object.fromEntries(Object.entries(credentials).filter(([k, v]) => v !== '' && spec?.credentials[k]));
      const made = await post<Connection>('/v1/provider-connections', {
        provider,
        credentials: filled,
        ...(name ? { name } : {}),
        ...(publicUrl ? { public_url: publicUrl } : {}),
      });
      await queries.invalidateQueries({ queryKey: ['connections'] });
      navigate(`/connections/${made.id}`);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`}>New connection</h2>
      <Problem error={providers.error} />
      <div className="field">
        <label htmlFor={`${uid}-provider`}>Provider</label>
        <select
          id={`${uid}-provider`}
          value={provider}
          required
          onChange={(e) => {
            setProvider(e.target.value);
            setCredentials({});
          }}
        >
          <option value="">Choose a provider</option>
          {providers.data?.items.map((p) => (
            <option key={p.provider} value={p.provider}>
              {p.provider}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${uid}-name`}>Name (optional)</label>
        <input id={`${uid}-name`} value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${uid}-public_url`}>Public URL (optional)</label>
        <input
          id={`${uid}-public_url`}
          value={publicUrl}
          inputMode="url"
          onChange={(e) => setPublicUrl(e.target.value)}
          aria-describedby={`${uid}-public_url-hint`}
        />
        <p className="hint" id={`${uid}-public_url-hint`}>
          The URL the provider calls, when it differs from the hub's ingest URL (e.g. behind a proxy).
        </p>
      </div>
      {spec && (
        <fieldset>
          <legend>Credentials of {spec.provider}</legend>
          {Object.entries(spec.credentials).map(([field, f]) => (
            <div className="field" key={field}>
              <label htmlFor={`${uid}-cred-${field}`}>
                {field}
                {f.required ? '' : ' (optional)'}
              </label>
              {f.choices ? (
                <select
                  id={`${uid}-cred-${field}`}
                  value={credentials[field] ?? ''}
                  onChange={(e) => setCredentials((c) => ({ ...c, [field]: e.target.value }))}
                  required={f.required}
                >
                  <option value="">—</option>
                  {f.choices.map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={`${uid}-cred-${field}`}
                  type={f.secret ? 'password' : 'text'}
                  autoComplete="off"
                  value={credentials[field] ?? ''}
                  onChange={(e) => setCredentials((c) => ({ ...c, [field]: e.target.value }))}
                  required={f.required}
                  aria-describedby={f.description ? `${uid}-cred-${field}-hint` : undefined}
                />
              )}
              {f.description && (
                <p className="hint" id={`${uid}-cred-${field}-hint`}>
                  {f.description}
                  {f.secret ? ' (secret: stored encrypted, never shown again)' : ''}
                </p>
              )}
            </div>
          ))}
        </fieldset>
      )}
      <Problem error={error} label="Not created" />
      <button type="submit" className="primary" disabled={!provider}>
        Create connection
      </button>
    </form>
  );
}

export function Connections({ session }: { session: Session }) {
  const list = useQuery({ queryKey: ['connections'], queryFn: () => get<Page<Connection>>('/v1/provider-connections?limit=100') });
  return (
    <>
      <PageTitle title="Provider connections">Provider connections</PageTitle>
      <p className="muted">Incoming provider webhooks (email, SMS, WhatsApp): each connection has an ingest URL to paste into the provider's console.</p>
      <Problem error={list.error} />
      {list.isPending ? (
        <Loading what="connections" />
      ) : list.data && list.data.items.length === 0 ? (
        <p>No connections yet.</p>
      ) : (
        <table className="list">
          <caption className="visually-hidden">Provider connections, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Connection</th>
              <th scope="col">Provider</th>
              <th scope="col">Ingest URL</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={href(`/connections/${c.id}`)}>{c.name ?? c.id}</a>
                </td>
                <td>{c.provider}</td>
                <td className="url">{c.ingest_url}</td>
                <td>{when(c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {session.isAdmin && <CreateConnection />}
    </>
  );
}
