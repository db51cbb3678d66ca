import { FormEvent, useEffect, useState } from 'react';
import { api, ApiError, Me } from '../api';
import { Problem } from '../components/common';

/** A pasted session link (`…/portal/#session=hhp_…`) or a bare token or key. */
export function tokenFrom(input: string): string {
  const trimmed = input.trim();
  const link = /#session=([A-Za-z0-9_-]+)/.exec(trimmed);
  return link ? link[1] : trimmed;
}

export function SignIn({ reason, onSignedIn }: { reason: ApiError | null; onSignedIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · Hookhub portal';
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const token = tokenFrom(value);
    if (!token) return setError(new ApiError(0, 'Missing', 'Enter an API key or a session link'));
    setBusy(true);
    try {
      await api<Me>('GET', '/v1/me', undefined, token);
      onSignedIn(token);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <h1>Hookhub portal</h1>
      {reason && <Problem error={reason} label="You were signed out" />}
      <form onSubmit={(e) => void submit(e)} aria-describedby="signin-help">
        <label htmlFor="credential">API key or session link</label>
        <input
          id="credential"
          name="credential"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={error ? true : undefined}
          required
        />
        <p id="signin-help" className="muted">
          A tenant API key (<code>hh_…</code>), or the portal session link your platform gave you (<code>…/portal/#session=hhp_…</code>). It is kept in this tab
          only.
        </p>
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      <Problem error={error} label="Sign-in failed" />
    </main>
  );
}
