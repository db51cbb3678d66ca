import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, credential, del, get, Me, onUnauthorized } from './api';
import { Loading, Problem } from './components/common';
import { when } from './format';
import { href, match, navigate, useRoute } from './router';
import type { Session } from './session';
import { SignIn } from './pages/SignIn';
import { SubscriptionList } from './pages/SubscriptionList';
import { SubscriptionForm } from './pages/SubscriptionForm';
import { SubscriptionDetail } from './pages/SubscriptionDetail';
import { DeliveryLog } from './pages/DeliveryLog';
import { DeliveryDetail } from './pages/DeliveryDetail';
import { EventCatalogue } from './pages/EventCatalogue';
import { Connections } from './pages/Connections';
import { ConnectionDetail } from './pages/ConnectionDetail';

export function App() {
  const [token, setToken] = useState(credential.get());
  const [signedOut, setSignedOut] = useState<ApiError | null>(null);
  const queries = useQueryClient();

  const signOut = (reason: ApiError | null) => {
    credential.clear();
    queries.clear();
    setSignedOut(reason);
    setToken(null);
  };

  // Any 401 (session expired or revoked, key revoked) ends the sign-in, saying why.
  useEffect(() => onUnauthorized((error) => signOut(error)), []);

  const me = useQuery({ queryKey: ['me', token], queryFn: () => get<Me>('/v1/me'), enabled: token !== null, staleTime: 60_000 });

  if (!token) {
    return (
      <SignIn
        reason={signedOut}
        onSignedIn={(t) => {
          credential.set(t);
          setSignedOut(null);
          setToken(t);
          navigate('/subscriptions');
        }}
      />
    );
  }
  if (me.isPending) return <Loading what="your account" />;
  if (me.isError) return <SignIn reason={me.error instanceof ApiError ? me.error : null} onSignedIn={(t) => (credential.set(t), setToken(t))} />;
  const session: Session = { me: me.data, isAdmin: me.data.roles.includes('admin') };
  return (
    <Shell
      session={session}
      onSignOut={async () => {
        // A portal session ends on the server too; a key just leaves this tab.
        if (session.me.session) await del('/v1/me/session').catch(() => undefined);
        signOut(null);
      }}
    />
  );
}

const NAV = [
  { route: '/subscriptions', label: 'Subscriptions' },
  { route: '/event-types', label: 'Event catalogue' },
  { route: '/connections', label: 'Provider connections' },
];

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => Promise<void> }) {
  const route = useRoute();
  const { me } = session;
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <p className="brand">Hookhub</p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.route}>
                <a href={href(n.route)} aria-current={route.startsWith(n.route) ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span data-testid="role">{session.isAdmin ? 'Admin' : 'Reader'}</span>
          {me.session ? <span> · session until {when(me.session.expires_at)}</span> : <span> · API key</span>}
          <button type="button" onClick={() => void onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} session={session} />
      </main>
    </>
  );
}

function Page({ route, session }: { route: string; session: Session }) {
  let m: Record<string, string> | null;
  if ((m = match('/subscriptions', route))) return <SubscriptionList session={session} cursor={m['?cursor']} />;
  if ((m = match('/subscriptions/new', route))) return <SubscriptionForm session={session} />;
  if ((m = match('/subscriptions/:id/edit', route))) return <SubscriptionForm session={session} id={m.id} />;
  if ((m = match('/subscriptions/:id/deliveries', route))) return <DeliveryLog session={session} subscriptionId={m.id} />;
  if ((m = match('/subscriptions/:id', route))) return <SubscriptionDetail session={session} id={m.id} />;
  if ((m = match('/deliveries/:id', route))) return <DeliveryDetail session={session} id={m.id} />;
  if ((m = match('/event-types', route))) return <EventCatalogue />;
  if ((m = match('/event-types/:name', route))) return <EventCatalogue name={m.name} />;
  if ((m = match('/connections', route))) return <Connections session={session} />;
  if ((m = match('/connections/:id', route))) return <ConnectionDetail session={session} id={m.id} />;
  return (
    <>
      <h1>Not found</h1>
      <Problem error={new ApiError(404, 'Not found', `The portal has no page ${route}`)} />
    </>
  );
}
