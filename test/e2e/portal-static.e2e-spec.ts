import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunningHub, startHub } from '../support/hub';
import { ensurePortalBuilt } from '../support/portal';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The subscriptions app serves the built portal at /portal (#14) with a strict Content-Security-Policy, and nothing else from disk. */
describe('the portal as served', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let assets: string[];

  beforeAll(async () => {
    assets = readdirSync(join(ensurePortalBuilt(), 'assets'));
    env = await createTestEnvironment();
    hub = await startHub(env, {}, { dispatchers: 0 });
  });
  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  const get = (path: string, method = 'GET') => fetch(hub.api.baseUrl + path, { method, redirect: 'manual' });

  it('serves index.html at /portal and /portal/ with the policy, referencing only its own files, nothing inline', async () => {
    for (const path of ['/portal', '/portal/']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const html = await res.text();
      // Every script has a src under /portal/assets; there is no inline script or style.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc="\/portal\/assets\/)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=/);
      expect(html).toContain('lang="en"');
    }
  });

  it('serves each built asset with its type and a long cache, and HEAD without a body', async () => {
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    for (const asset of assets) {
      const res = await get(`/portal/assets/${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-security-policy')).toBe(CSP);
    }
    const head = await get('/portal/', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers any other path or method under /portal with a 404 problem, serving nothing else from disk', async () => {
    for (const path of [
      '/portal/subscriptions',
      '/portal/index.html',
      '/portal/assets/',
      '/portal/assets/nope.js',
      '/portal/assets/..%2f..%2fpackage.json',
      '/portal/assets/%2e%2e/index.html',
      '/portal/../package.json',
      '/portal/assets/x.map',
      '/portalx',
    ]) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const post = await fetch(`${hub.api.baseUrl}/portal/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(404);
  });

  it('takes the frame ancestors from PORTAL_FRAME_ANCESTORS, for embedding', async () => {
    const embedded = await startHub(env, { PORTAL_FRAME_ANCESTORS: "'self' https://app.example.com" }, { dispatchers: 0 });
    try {
      const res = await fetch(`${embedded.api.baseUrl}/portal/`);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://app.example.com");
    } finally {
      await embedded.close();
    }
  });
});
