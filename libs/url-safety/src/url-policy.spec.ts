import { isLoopbackAddress, isPublicAddress } from './address-policy';
import { checkWebhookUrl } from './url-policy';

const strict = { allowInsecureTargets: false };
const insecure = { allowInsecureTargets: true };

describe('checkWebhookUrl (production: allowInsecureTargets false)', () => {
  const unsafe: Array<[label: string, url: string]> = [
    ['http scheme', 'http://example.com/hook'],
    ['ftp scheme', 'ftp://example.com/hook'],
    ['file scheme', 'file:///etc/passwd'],
    ['javascript scheme', 'javascript:alert(1)'],
    ['not a URL', 'not a url'],
    ['relative URL', '/hooks/incoming'],
    ['localhost', 'https://localhost/hook'],
    ['localhost with trailing dot', 'https://localhost./hook'],
    ['localhost upper case', 'https://LOCALHOST:8443/hook'],
    ['*.localhost', 'https://api.localhost/hook'],
    ['loopback 127.0.0.1', 'https://127.0.0.1/hook'],
    ['loopback 127.0.0.1 with port', 'https://127.0.0.1:8443/hook'],
    ['loopback elsewhere in 127/8', 'https://127.8.9.10/hook'],
    ['loopback short form 127.1', 'https://127.1/hook'],
    ['loopback decimal 2130706433', 'https://2130706433/hook'],
    ['loopback hex 0x7f000001', 'https://0x7f000001/hook'],
    ['loopback octal 0177.0.0.1', 'https://0177.0.0.1/hook'],
    ['loopback with trailing dot', 'https://127.0.0.1./hook'],
    ['private 10.0.0.1', 'https://10.0.0.1/hook'],
    ['private 10.255.255.254', 'https://10.255.255.254/hook'],
    ['private 172.16.0.1', 'https://172.16.0.1/hook'],
    ['private 172.31.255.1', 'https://172.31.255.1/hook'],
    ['private 192.168.1.1', 'https://192.168.1.1/hook'],
    ['private hex 0xc0a80001', 'https://0xc0a80001/hook'],
    ['cloud metadata 169.254.169.254', 'https://169.254.169.254/latest/meta-data/'],
    ['CGNAT 100.64.0.1', 'https://100.64.0.1/hook'],
    ['unspecified 0.0.0.0', 'https://0.0.0.0/hook'],
    ['this-network 0.1.2.3', 'https://0.1.2.3/hook'],
    ['multicast 224.0.0.1', 'https://224.0.0.1/hook'],
    ['broadcast 255.255.255.255', 'https://255.255.255.255/hook'],
    ['reserved 240.0.0.1', 'https://240.0.0.1/hook'],
    ['documentation 192.0.2.1', 'https://192.0.2.1/hook'],
    ['benchmarking 198.18.0.1', 'https://198.18.0.1/hook'],
    ['IPv6 loopback [::1]', 'https://[::1]/hook'],
    ['IPv6 unspecified [::]', 'https://[::]/hook'],
    ['IPv6 link-local [fe80::1]', 'https://[fe80::1]/hook'],
    ['IPv6 unique local [fc00::1]', 'https://[fc00::1]/hook'],
    ['IPv6 unique local [fd12:3456::1]', 'https://[fd12:3456::1]/hook'],
    ['IPv6 multicast [ff02::1]', 'https://[ff02::1]/hook'],
    ['IPv6 documentation [2001:db8::1]', 'https://[2001:db8::1]/hook'],
    ['IPv4-mapped loopback [::ffff:127.0.0.1]', 'https://[::ffff:127.0.0.1]/hook'],
    ['IPv4-mapped loopback hex [::ffff:7f00:1]', 'https://[::ffff:7f00:1]/hook'],
    ['IPv4-mapped private [::ffff:10.0.0.1]', 'https://[::ffff:10.0.0.1]/hook'],
    ['IPv4-mapped metadata [::ffff:169.254.169.254]', 'https://[::ffff:169.254.169.254]/hook'],
    ['IPv4-mapped long form', 'https://[0:0:0:0:0:ffff:127.0.0.1]/hook'],
    ['IPv4-compatible loopback [::127.0.0.1]', 'https://[::127.0.0.1]/hook'],
    ['IPv4-compatible private [::a00:1]', 'https://[::a00:1]/hook'],
    ['NAT64 [64:ff9b::a00:1]', 'https://[64:ff9b::a00:1]/hook'],
    ['NAT64 of loopback [64:ff9b::127.0.0.1]', 'https://[64:ff9b::127.0.0.1]/hook'],
    ['6to4 [2002:7f00:1::]', 'https://[2002:7f00:1::]/hook'],
    ['Teredo [2001::1]', 'https://[2001::1]/hook'],
    ['.internal name', 'https://foo.internal/hook'],
    ['.local name', 'https://printer.local/hook'],
    ['.cluster.local name', 'https://svc.cluster.local/hook'],
    ['.svc name', 'https://api.default.svc/hook'],
    ['.home.arpa name', 'https://nas.home.arpa/hook'],
    ['.internal name with trailing dot', 'https://foo.internal./hook'],
    ['.internal name upper case', 'https://FOO.INTERNAL/hook'],
    ['credentials user:pass', 'https://user:pass@example.com/hook'],
    ['credentials user only', 'https://user@example.com/hook'],
    ['single-label host', 'https://intranet/hook'],
    ['single-label host with port', 'https://webhooks:8443/hook'],
    ['fragment', 'https://example.com/hook#frag'],
  ];

  it('covers at least 30 unsafe URLs', () => {
    expect(unsafe.length).toBeGreaterThanOrEqual(30);
  });

  it.each(unsafe)('rejects %s (%s)', (_label, url) => {
    const verdict = checkWebhookUrl(url, strict);
    expect(verdict).toEqual({ ok: false, reason: expect.any(String) });
  });

  it('gives a reason that names the problem', () => {
    expect(checkWebhookUrl('http://example.com/', strict)).toEqual({ ok: false, reason: 'must use https' });
    expect(checkWebhookUrl('ftp://example.com/', strict)).toEqual({ ok: false, reason: 'must use https' });
    // In development http is allowed, so the reason must not say "https" only.
    expect(checkWebhookUrl('ftp://example.com/', { allowInsecureTargets: true })).toEqual({ ok: false, reason: 'must use http or https, not ftp' });
    expect(checkWebhookUrl('https://user:pass@example.com/', strict)).toEqual({ ok: false, reason: 'must not contain credentials' });
    expect(checkWebhookUrl('https://localhost/', strict)).toEqual({ ok: false, reason: 'must not point to localhost' });
    expect(checkWebhookUrl('https://intranet/', strict)).toEqual({ ok: false, reason: 'must use a fully qualified domain name' });
    expect(checkWebhookUrl('https://foo.internal/', strict)).toEqual({ ok: false, reason: 'must not point to an internal domain' });
    expect(checkWebhookUrl('https://2130706433/', strict)).toEqual({
      ok: false,
      reason: 'must not point to a private, loopback, link-local or reserved address',
    });
  });

  it.each([
    ['https://example.com/hook'],
    ['https://hooks.example.com:8443/a/b?c=d'],
    ['https://example.com./hook'],
    ['https://93.184.216.34/x'],
    ['https://8.8.8.8/'],
    ['https://172.32.0.1/'],
    ['https://100.128.0.1/'],
    ['https://[2606:4700::1111]/'],
    ['https://[2a00:1450:4001:80b::200e]/hook'],
    ['https://[::ffff:93.184.216.34]/x'],
    ['https://my-local.example.com/'],
    ['https://internal.example.com/'],
  ])('accepts the public URL %s', (url) => {
    const verdict = checkWebhookUrl(url, strict);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(verdict.url).toBeInstanceOf(URL);
  });

  it('returns the parsed, normalised URL', () => {
    const verdict = checkWebhookUrl('HTTPS://Example.COM:443/Hook?x=1', strict);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(verdict.url.href).toBe('https://example.com/Hook?x=1');
  });
});

describe('checkWebhookUrl (development: allowInsecureTargets true)', () => {
  it.each([
    ['http://127.0.0.1:8080'],
    ['http://127.0.0.1:8080/hook'],
    ['http://localhost'],
    ['http://localhost:3000/hook'],
    ['http://[::1]:8080/'],
    ['https://localhost/hook'],
    ['http://example.com/hook'],
    ['http://93.184.216.34/x'],
  ])('accepts %s', (url) => {
    expect(checkWebhookUrl(url, insecure).ok).toBe(true);
  });

  it.each([
    ['http://10.0.0.1'],
    ['http://10.0.0.1:8080/hook'],
    ['http://192.168.1.1/'],
    ['http://169.254.169.254/latest/meta-data/'],
    ['http://0.0.0.0:8080/'],
    ['http://[fe80::1]/'],
    ['http://foo.internal/'],
    ['http://intranet/'],
    ['http://user:pass@localhost/'],
    ['ftp://localhost/'],
    ['file:///etc/passwd'],
  ])('still rejects %s', (url) => {
    expect(checkWebhookUrl(url, insecure).ok).toBe(false);
  });
});

describe('isPublicAddress', () => {
  it.each([['93.184.216.34'], ['8.8.8.8'], ['1.1.1.1'], ['2606:4700::1111'], ['2a00:1450:4001:80b::200e'], ['::ffff:93.184.216.34']])(
    '%s is public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it.each([
    ['127.0.0.1'],
    ['10.1.2.3'],
    ['172.16.5.4'],
    ['192.168.0.1'],
    ['169.254.169.254'],
    ['100.64.0.1'],
    ['0.0.0.0'],
    ['224.0.0.1'],
    ['255.255.255.255'],
    ['240.0.0.1'],
    ['192.0.2.10'],
    ['198.51.100.7'],
    ['203.0.113.9'],
    ['::1'],
    ['::'],
    ['fe80::1'],
    ['fc00::1'],
    ['ff02::1'],
    ['2001:db8::1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:10.0.0.1'],
    ['::ffff:7f00:1'],
    ['::7f00:1'],
    ['64:ff9b::a00:1'],
    ['2002:7f00:1::'],
    ['example.com'],
    [''],
    ['127.1'],
  ])('%p is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.1', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['93.184.216.34', false],
    ['localhost', false],
  ])('%s → %p', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});
