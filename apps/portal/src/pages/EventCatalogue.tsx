import { useQuery } from '@tanstack/react-query';
import { enc, EventType, get, Page } from '../api';
import { Code, Loading, PageTitle, Problem } from '../components/common';
import { when } from '../format';
import { href } from '../router';

function TypeDetail({ name }: { name: string }) {
  const type = useQuery({ queryKey: ['event-type', name], queryFn: () => get<EventType>(`/v1/event-types/${enc(name)}`) });
  if (type.isPending) return <Loading what={name} />;
  if (!type.data) return <Problem error={type.error} />;
  const t = type.data;
  return (
    <>
      <PageTitle title={t.type}>{t.type}</PageTitle>
      <p>
        <a href={href('/event-types')}>All event types</a>
      </p>
      <p>{t.description}</p>
      <p className="muted">
        {t.scope} · model {t.model_type} at {t.resource_path} · topic {t.topic} · latest version {t.latest_version}
        {t.deprecated ? ' · deprecated' : ''}
      </p>
      {[...t.versions].reverse().map((v) => (
        <section key={v.version} aria-labelledby={`v-${v.version}`}>
          <h2 id={`v-${v.version}`}>
            Version {v.version}
            {v.deprecated ? ' (deprecated)' : ''}
          </h2>
          {v.created_at && <p className="muted">Added {when(v.created_at)}</p>}
          <details>
            <summary>JSON Schema of the event</summary>
            <Code label={`Schema of version ${v.version}`} value={v.schema} />
          </details>
          <div className="side-by-side">
            <div>
              <h3>Full example</h3>
              <Code label={`Full example of version ${v.version}`} value={v.delivered_example} />
            </div>
            <div>
              <h3>Thin example</h3>
              <Code label={`Thin example of version ${v.version}`} value={v.thin_example} />
            </div>
          </div>
          <details>
            <summary>To publish (POST /v1/events)</summary>
            <Code label={`Publishable example of version ${v.version}`} value={v.example} />
          </details>
        </section>
      ))}
    </>
  );
}

export function EventCatalogue({ name }: { name?: string }) {
  const list = useQuery({ queryKey: ['event-types'], queryFn: () => get<Page<EventType>>('/v1/event-types'), enabled: name === undefined });
  if (name) return <TypeDetail name={name} />;
  return (
    <>
      <PageTitle title="Event catalogue">Event catalogue</PageTitle>
      <Problem error={list.error} />
      {list.isPending ? (
        <Loading what="the catalogue" />
      ) : (
        <table className="list">
          <caption className="visually-hidden">Event types, built-in, the platform's and your own</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Description</th>
              <th scope="col">Scope</th>
              <th scope="col">Versions</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((t) => (
              <tr key={t.type}>
                <td>
                  <a href={href(`/event-types/${enc(t.type)}`)}>{t.type}</a>
                  {t.deprecated ? ' (deprecated)' : ''}
                </td>
                <td>{t.description}</td>
                <td>{t.scope}</td>
                <td>{t.versions.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
