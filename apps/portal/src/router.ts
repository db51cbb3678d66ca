import { useEffect, useState } from 'react';

/**
 * Hash routes (`/portal/#/subscriptions/…`): the server serves one
 * index.html and never sees the route, so there is no fallback route on the
 * API's side, and a session link's fragment (`#session=…`) is read before any
 * route is.
 */
export function currentRoute(): string {
  const hash = window.location.hash.replace(/^#/, '');
  return hash.startsWith('/') ? hash : '/subscriptions';
}

export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function navigate(route: string): void {
  window.location.hash = `#${route}`;
}

/** `/subscriptions/:id/deliveries` against a route: its parameters, decoded, or null. */
export function match(pattern: string, route: string): Record<string, string> | null {
  const [path, query = ''] = route.split('?');
  const p = pattern.split('/');
  const r = path.split('/');
  if (p.length !== r.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try {
        params[p[i].slice(1)] = decodeURIComponent(r[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== r[i]) return null;
  }
  for (const [k, v] of new URLSearchParams(query)) params[`?${k}`] = v;
  return params;
}

export const href = (route: string): string => `#${route}`;
