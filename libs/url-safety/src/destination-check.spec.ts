import { checkWebhookDestination, HostResolver } from './destination-check';

const zone: Record<string, string[]> = {
  'private.example.com': ['10.0.0.5'],
  'loopback.example.com': ['127.0.0.1'],
  'loopback6.example.com': ['::1'],
  'metadata.example.com': ['169.254.169.254'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
  'mixed6.example.com': ['2606:2800:220:1:248:1893:25c8:1946', 'fd00::1'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'public.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'empty.example.com': [],
};

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ${code}`), { code });
}

function fakeResolver(): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<string[]> => {
    calls.push(hostname);
    if (hostname === 'flaky.example.com') throw errno('EAI_AGAIN');
    const answer = zone[hostname];
    if (!answer) throw errno('ENOTFOUND');
    return answer;
  };
  return Object.assign(resolve, { calls });
}

const strict = (resolver: HostResolver) => ({ allowInsecureTargets: false, resolver });
const insecure = (resolver: HostResolver) => ({ allowInsecureTargets: true, resolver });

describe('checkWebhookDestination', () => {
  it.each([
    ['private 10.x', 'https://private.example.com/hook', '10.0.0.5'],
    ['loopback 127.0.0.1', 'https://loopback.example.com/hook', '127.0.0.1'],
    ['IPv6 loopback ::1', 'https://loopback6.example.com/hook', '::1'],
    ['cloud metadata 169.254.169.254', 'https://metadata.example.com/hook', '169.254.169.254'],
    ['public + private', 'https://mixed.example.com/hook', '10.0.0.5'],
    ['IPv6 public + unique local', 'https://mixed6.example.com/hook', 'fd00::1'],
    ['IPv4-mapped loopback', 'https://mapped.example.com/hook', '::ffff:127.0.0.1'],
  ])('refuses a name resolving to %s', async (_label, url, address) => {
    const verdict = await checkWebhookDestination(url, strict(fakeResolver()));
    expect(verdict).toEqual({ ok: false, reason: `resolves to a private, loopback, link-local or reserved address (${address})` });
  });

  it('accepts a name whose addresses are all public and returns the parsed URL', async () => {
    const resolver = fakeResolver();
    const verdict = await checkWebhookDestination('https://Public.Example.com:8443/hook?x=1', strict(resolver));
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(verdict.url.href).toBe('https://public.example.com:8443/hook?x=1');
    expect(resolver.calls).toEqual(['public.example.com']);
  });

  it('refuses a name that does not resolve', async () => {
    await expect(checkWebhookDestination('https://nowhere.example.com/hook', strict(fakeResolver()))).resolves.toEqual({
      ok: false,
      reason: 'does not resolve',
    });
  });

  it('refuses a name with no addresses', async () => {
    await expect(checkWebhookDestination('https://empty.example.com/hook', strict(fakeResolver()))).resolves.toEqual({
      ok: false,
      reason: 'does not resolve',
    });
  });

  it('names the error code of a resolver failure other than "no such name"', async () => {
    await expect(checkWebhookDestination('https://flaky.example.com/hook', strict(fakeResolver()))).resolves.toEqual({
      ok: false,
      reason: 'does not resolve (EAI_AGAIN)',
    });
  });

  it('runs the static check first and does not resolve a refused URL', async () => {
    const resolver = fakeResolver();
    await expect(checkWebhookDestination('http://public.example.com/hook', strict(resolver))).resolves.toEqual({ ok: false, reason: 'must use https' });
    await expect(checkWebhookDestination('https://db.internal/hook', strict(resolver))).resolves.toMatchObject({ ok: false });
    await expect(checkWebhookDestination('https://10.0.0.1/hook', strict(resolver))).resolves.toMatchObject({ ok: false });
    expect(resolver.calls).toEqual([]);
  });

  it('does not resolve IP literals', async () => {
    const resolver = fakeResolver();
    await expect(checkWebhookDestination('https://93.184.216.34/hook', strict(resolver))).resolves.toMatchObject({ ok: true });
    await expect(checkWebhookDestination('https://[2606:2800:220:1:248:1893:25c8:1946]/hook', strict(resolver))).resolves.toMatchObject({ ok: true });
    await expect(checkWebhookDestination('http://127.0.0.1:3000/hook', insecure(resolver))).resolves.toMatchObject({ ok: true });
    expect(resolver.calls).toEqual([]);
  });

  describe('with allowInsecureTargets', () => {
    it('accepts names resolving to loopback', async () => {
      await expect(checkWebhookDestination('http://loopback.example.com/hook', insecure(fakeResolver()))).resolves.toMatchObject({ ok: true });
      await expect(checkWebhookDestination('http://loopback6.example.com/hook', insecure(fakeResolver()))).resolves.toMatchObject({ ok: true });
    });

    it('still refuses names resolving to private, link-local or mixed addresses', async () => {
      for (const host of ['private', 'metadata', 'mixed']) {
        const verdict = await checkWebhookDestination(`http://${host}.example.com/hook`, insecure(fakeResolver()));
        expect(verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/^resolves to a private/) });
      }
    });
  });
});
