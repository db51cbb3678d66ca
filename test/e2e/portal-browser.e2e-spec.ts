import { createHmac } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually } from '../support/eventually';
import { launchChromium, screenshot, seriousA11yViolations } from '../support/browser';
import { ApiClient, RunningHub, startHub } from '../support/hub';
import { ensurePortalBuilt } from '../support/portal';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * The portal (#14) in a real browser (Debian's Chromium driven by
 * playwright-core) against the real hub on NATS and PostgreSQL and a loopback
 * receiver: what a tenant's person does, from signing in to retrying a failed
 * delivery by hand. Every page is screenshotted (test-results/screenshots)
 * and checked with axe-core; the page must never break its own CSP.
 */
describe('the portal in a browser', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let api: ApiClient;
  let receiver: TestReceiver;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tenant: { tenantId: string; adminKey: string; keyId: string };
  let publisher: string;
  let subscriptionId = '';
  let n = 0;
  /** Whatever the browser reported that a page must not do: CSP violations, script errors. */
  const broken: string[] = [];
  const checked: string[] = [];

  const portal = () => `${api.baseUrl}/portal/`;
  const publish = async (type = 'ticket.created') => {
    const id = `portal-evt-${++n}`;
    const res = await api.request('POST', '/v1/events', {
      token: publisher,
      body: { id, type, model_id: `t-${n}`, model: { id: `t-${n}`, subject: `<img src=x onerror=alert(1)> #${n}` } },
    });
    expect(res.status).toBe(202);
    return id;
  };
  /** A screenshot and an axe-core check of the page as it is now. */
  const look = async (p: Page, name: string) => {
    await screenshot(p, name);
    const violations = await seriousA11yViolations(p);
    expect({ page: name, violations }).toEqual({ page: name, violations: [] });
    checked.push(name);
  };
  const watch = (p: Page) => {
    p.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) broken.push(m.text());
    });
    p.on('pageerror', (err) => broken.push(`page error: ${err.message}`));
  };
  const newPage = async (): Promise<{ ctx: BrowserContext; p: Page }> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    // Every wait is for something the portal shows within a few seconds: fail fast rather than at jest's timeout.
    p.setDefaultTimeout(8_000);
    watch(p);
    return { ctx, p };
  };
  const openSession = async (body: Record<string, unknown>) => {
    const res = await api.request<{ id: string; token: string; portal_path: string }>('POST', `/v1/tenants/${tenant.tenantId}/portal-sessions`, {
      token: env.adminToken,
      body,
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  // A test that fails while the receiver is made to fail must not make the next ones fail too.
  beforeEach(() => {
    receiver.respond = () => ({ status: 200, body: 'ok' });
  });

  beforeAll(async () => {
    ensurePortalBuilt();
    env = await createTestEnvironment();
    hub = await startHub(env);
    api = hub.api;
    receiver = await new TestReceiver().start();
    tenant = await api.createTenant('Portal Inc');
    publisher = (await api.createKey(tenant.tenantId, ['publisher'])).key;
    browser = await launchChromium();
    ({ ctx: context, p: page } = await newPage());
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  it('signs in with an API key, with the keyboard', async () => {
    await page.goto(portal());
    await expect(page.getByRole('heading', { name: 'Hookhub portal' }).isVisible()).resolves.toBe(true);
    await look(page, '01-sign-in');
    // A wrong key is refused with the API's reason.
    await page.getByLabel('API key or session link').fill('hh_wrong');
    await page.keyboard.press('Enter');
    await page.getByText('The API key is unknown or revoked').waitFor();
    await page.getByLabel('API key or session link').fill(tenant.adminKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Subscriptions', level: 1 }).waitFor();
    expect(await page.getByTestId('role').textContent()).toBe('Admin');
    await look(page, '02-subscriptions-empty');
  });

  it('creates a subscription to a loopback receiver, showing why a URL is refused and the secret once', async () => {
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByRole('heading', { name: 'New subscription' }).waitFor();
    await page.getByRole('checkbox', { name: 'ticket.created', exact: true }).check();
    await page.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    const problem = page.getByRole('alert');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/Not created.*(https|http|scheme|URL)/i);
    expect(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid')).toBe('true');
    await look(page, '03-subscription-form-refused');
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/portal-hook`);
    await page.getByLabel('Description').fill('Portal test endpoint');
    await page.getByLabel('Retry delays (ms)').fill('200, 200');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.getByRole('heading', { name: 'Subscription created' }).waitFor();
    const secret = await page.getByTestId('once-secret').inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await look(page, '04-secret-once');
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('heading', { name: 'Subscription', exact: true }).waitFor();
    subscriptionId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    const sub = await api.request<{ url: string; event_types: string[]; retry_policy_ms: number[] }>('GET', `/v1/subscriptions/${subscriptionId}`, {
      token: tenant.adminKey,
    });
    expect(sub.body).toMatchObject({ url: `${receiver.url}/portal-hook`, event_types: ['ticket.created'], retry_policy_ms: [200, 200] });
    // The secret shown is the one that signs.
    const eventId = await publish();
    await eventually(() => expect(receiver.requests.length).toBe(1));
    const got = receiver.requests[0];
    expect(got.headers['x-webhook-signature']).toBe(`sha256=${createHmac('sha256', secret).update(got.raw).digest('hex')}`);
    expect(got.json()).toMatchObject({ id: eventId });
  });

  it('shows the delivery in the log and its attempt, payloads as text', async () => {
    await page.getByRole('link', { name: 'Delivery log' }).click();
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
    const row = page.getByTestId('deliveries').getByRole('row').filter({ hasText: 'ticket.created' });
    await row.filter({ hasText: 'delivered' }).first().waitFor();
    await look(page, '05-delivery-log');
    // Filtered by an event type it has no delivery of, then by its own.
    await page.getByLabel('Event type').fill('ticket.updated');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No deliveries match.').waitFor();
    await page.getByLabel('Event type').fill('ticket.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await row.first().getByRole('link').click();
    await page.getByRole('heading', { name: 'Delivery of ticket.created' }).waitFor();
    const attempt = page.getByTestId('attempt').first();
    expect(await attempt.getByRole('heading', { level: 3 }).textContent()).toMatch(/^Attempt 1: success, HTTP 200 in \d+ ms$/);
    expect(await attempt.textContent()).toContain('X-Webhook-Signature');
    // The model's markup is shown as text, never run or rendered.
    await page.getByText('<img src=x onerror=alert(1)> #1').first().waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    await look(page, '06-delivery-attempt');
  });

  it('shows retries and the health chart change when the receiver fails, and retries by hand', async () => {
    await page.goto(`${portal()}#/subscriptions/${subscriptionId}`);
    await page.getByTestId('health-figures').waitFor();
    await eventually(async () => expect(await page.getByTestId('success-rate').textContent()).toBe('100 %'), 10_000);
    receiver.respond = () => ({ status: 500, body: 'receiver down' });
    const failing = await publish();
    // First attempt and two retries 200 ms apart, all failing: the delivery is dead-lettered.
    await eventually(async () => {
      const d = await api.request<{ items: Array<{ id: string; event_id: string; status: string }> }>('GET', `/v1/subscriptions/${subscriptionId}/deliveries`, {
        token: tenant.adminKey,
      });
      expect(d.body.items.find((i) => i.event_id === failing)?.status).toBe('failed');
    }, 15_000);
    // The page refreshes its figures by itself (every 5 s): 4 attempts, 3 failures.
    await eventually(async () => {
      expect(await page.getByTestId('attempts').textContent()).toBe('4');
      expect(await page.getByTestId('failures').textContent()).toBe('3');
      expect(await page.getByTestId('success-rate').textContent()).toBe('25.0 %');
    }, 10_000);
    await look(page, '07-subscription-health-failing');

    await page.getByRole('link', { name: 'Delivery log' }).click();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const failedRow = page.getByTestId('deliveries').getByRole('row').filter({ hasText: failing });
    // The failing delivery is in the unfiltered list too: wait for the filtered list (header and that row) to replace it.
    await eventually(async () => expect(await page.getByTestId('deliveries').getByRole('row').count()).toBe(2));
    await failedRow.waitFor();
    await failedRow.getByRole('link').click();
    await page.getByRole('heading', { name: 'Attempt 3: failure, HTTP 500', exact: false }).waitFor();
    expect(await page.getByText('receiver down').count()).toBeGreaterThan(0);
    await look(page, '08-delivery-failed-attempts');
    receiver.respond = () => ({ status: 200, body: 'back up' });
    await page.getByRole('button', { name: 'Retry now' }).click();
    await page.getByRole('heading', { name: /^Attempt 4: success, HTTP 200/ }).waitFor({ timeout: 10_000 });
    await page.getByText('delivered', { exact: true }).first().waitFor();
  });

  it('rotates the secret after a confirmation: the new one is shown once and signs beside the old one', async () => {
    await page.goto(`${portal()}#/subscriptions/${subscriptionId}`);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await dialog.waitFor();
    await look(page, '09-confirm-rotate');
    // Escape cancels.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    const fresh = await page.getByTestId('once-secret').inputValue();
    expect(fresh.length).toBeGreaterThanOrEqual(16);
    const before = receiver.requests.length;
    await publish();
    await eventually(() => expect(receiver.requests.length).toBe(before + 1));
    const got = receiver.requests[before];
    const [first] = String(got.headers['x-webhook-signature']).split(',');
    expect(first).toBe(`sha256=${createHmac('sha256', fresh).update(got.raw).digest('hex')}`);
    expect(String(got.headers['x-webhook-signature']).split(',')).toHaveLength(2);
    await page.getByRole('button', { name: 'I have stored it' }).click();
  });

  it('sends a test event, disables and enables after a confirmation, replays, and edits', async () => {
    await page.goto(`${portal()}#/subscriptions/${subscriptionId}`);
    await page.getByRole('button', { name: 'Send test event' }).click();
    await eventually(async () => expect(await page.getByTestId('test-result').textContent()).toMatch(/^Test event delivered: status 200 in \d+ ms/));
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog', { name: 'Disable this subscription?' }).getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect(await page.locator('.state').first().textContent()).toBe('disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    expect(await page.locator('.state').first().textContent()).toBe('active');
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByText(/^\d+ deliveries queued to be sent again\.$/).waitFor();
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit subscription' }).waitFor();
    await page.getByLabel('Description').fill('Edited in the portal');
    await page.getByLabel('Rate limit (deliveries per second)').fill('25');
    await page.getByLabel('Burst').fill('40');
    await look(page, '10-subscription-edit');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Subscription', exact: true }).waitFor();
    await page.getByText('Edited in the portal').waitFor();
    const sub = await api.request<{ description: string; event_types: string[] }>('GET', `/v1/subscriptions/${subscriptionId}`, { token: tenant.adminKey });
    expect(sub.body).toMatchObject({ description: 'Edited in the portal', event_types: ['ticket.created'], rate_limit: { per_second: 25, burst: 40 } });
    // The form shows the limit it saved as soon as it shows at all (on a loaded machine it once showed
    // empty fields first, filled after its first render); emptied, the limit is removed.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit subscription' }).waitFor();
    expect(await page.getByLabel('Burst').inputValue()).toBe('40');
    await page.getByLabel('Rate limit (deliveries per second)').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Subscription', exact: true }).waitFor();
    await eventually(async () =>
      expect((await api.request('GET', `/v1/subscriptions/${subscriptionId}`, { token: tenant.adminKey })).body).toMatchObject({ rate_limit: null }),
    );
  });

  it('shows the event catalogue with versions, schemas and examples', async () => {
    await page.getByRole('link', { name: 'Event catalogue' }).click();
    await page.getByRole('heading', { name: 'Event catalogue' }).waitFor();
    await look(page, '11-event-catalogue');
    await page.getByRole('link', { name: 'ticket.created', exact: true }).click();
    await page.getByRole('heading', { name: 'Version 1' }).waitFor();
    await page.getByRole('heading', { name: 'Thin example' }).waitFor();
    await look(page, '12-event-type');
  });

  it('creates a provider connection and shows its ingest URL', async () => {
    await page.getByRole('link', { name: 'Provider connections' }).click();
    await page.getByRole('heading', { name: 'Provider connections' }).waitFor();
    await page.getByLabel('Provider').selectOption('gupshup');
    await page.getByLabel('Name (optional)').fill('Gupshup test');
    await page.getByLabel('header_name').fill('Authorization');
    await page.getByLabel('header_value').fill('Bearer portal-test-token');
    await look(page, '13-connections');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'gupshup connection: Gupshup test' }).waitFor();
    expect(await page.getByTestId('ingest-url').textContent()).toMatch(/\/ingest\/gupshup\/[0-9a-f-]{36}$/);
    expect(await page.content()).not.toContain('portal-test-token');
    await look(page, '14-connection');
  });

  it('signs in with a session link; a reader sees but cannot change, and the token leaves the address bar', async () => {
    const session = await openSession({ api_key_id: tenant.keyId, role: 'reader' });
    const { ctx, p } = await newPage();
    try {
      await p.goto(`${api.baseUrl}${session.portal_path}`);
      await p.getByRole('heading', { name: 'Subscriptions', level: 1 }).waitFor();
      expect(p.url()).not.toContain(session.token);
      expect(await p.getByTestId('role').textContent()).toBe('Reader');
      expect(await p.getByRole('link', { name: 'New subscription' }).count()).toBe(0);
      await p.getByRole('link', { name: `${receiver.url}/portal-hook` }).click();
      await p.getByTestId('health-figures').waitFor();
      expect(await p.getByRole('button', { name: 'Delete' }).count()).toBe(0);
      await look(p, '15-reader-session');

      // Revoked: the next request is refused, and the portal says why.
      expect((await api.request('DELETE', `/v1/tenants/${tenant.tenantId}/portal-sessions/${session.id}`, { token: env.adminToken })).status).toBe(204);
      await p.getByRole('link', { name: 'Event catalogue' }).click();
      await p.getByText('The portal session was revoked').waitFor();
      await p.getByLabel('API key or session link').waitFor();
      await look(p, '16-session-revoked');
    } finally {
      await ctx.close();
    }
  });

  it('refuses an expired session link', async () => {
    const session = await openSession({ api_key_id: tenant.keyId, role: 'admin', expires_in_ms: 1_000 });
    await new Promise((r) => setTimeout(r, 1_100));
    const { ctx, p } = await newPage();
    try {
      await p.goto(`${api.baseUrl}${session.portal_path}`);
      await p.getByText('The portal session has expired').waitFor();
      expect(p.url()).not.toContain(session.token);
      await look(p, '17-session-expired');
    } finally {
      await ctx.close();
    }
  });

  it('deletes a subscription after a confirmation', async () => {
    await page.goto(`${portal()}#/subscriptions/${subscriptionId}`);
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this subscription?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No subscriptions yet.').waitFor();
    expect((await api.request('GET', `/v1/subscriptions/${subscriptionId}`, { token: tenant.adminKey })).status).toBe(404);
  });

  it('broke no Content-Security-Policy rule and threw no script error on any page', () => {
    expect(checked.length).toBeGreaterThanOrEqual(17);
    expect(broken).toEqual([]);
    void context;
  });
});
