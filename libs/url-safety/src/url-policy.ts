import ipaddr from 'ipaddr.js';
import { isLoopbackAddress, isPublicAddress } from './address-policy';

export interface UrlPolicyOptions {
  /** Development only: allows http and loopback targets. Off in production. */
  allowInsecureTargets: boolean;
}

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const INTERNAL_SUFFIXES = ['.internal', '.local', '.localhost', '.svc', '.cluster.local', '.home.arpa', '.lan', '.intranet', '.corp'];

/** Host names that are loopback by definition, whatever DNS says. */
function isLocalName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

/**
 * The static half of SSRF protection: scheme, credentials, host names and IP
 * literals. WHATWG URL parsing has already turned decimal, hex and octal IPv4
 * spellings into dotted quads, so they are judged like any other literal.
 * Names are checked again at connect time against the resolved address.
 */
export function checkWebhookUrl(raw: string, options: UrlPolicyOptions): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a valid absolute URL' };
  }
  const insecure = options.allowInsecureTargets;
  if (url.protocol !== 'https:' && !(insecure && url.protocol === 'http:')) {
    // With insecure targets allowed, http is fine too: saying "https" alone would send the caller the wrong way.
    return { ok: false, reason: insecure ? `must use http or https, not ${url.protocol.slice(0, -1)}` : 'must use https' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not contain credentials' };
  if (url.hash) return { ok: false, reason: 'must not contain a fragment' };
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (!host) return { ok: false, reason: 'must have a host' };
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (ipaddr.isValid(literal) && (literal.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(literal))) {
    if (isPublicAddress(literal)) return { ok: true, url };
    if (insecure && isLoopbackAddress(literal)) return { ok: true, url };
    return { ok: false, reason: 'must not point to a private, loopback, link-local or reserved address' };
  }
  if (isLocalName(host)) {
    return insecure ? { ok: true, url } : { ok: false, reason: 'must not point to localhost' };
  }
  if (!host.includes('.')) return { ok: false, reason: 'must use a fully qualified domain name' };
  if (INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) return { ok: false, reason: 'must not point to an internal domain' };
  return { ok: true, url };
}
