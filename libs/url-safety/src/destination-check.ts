import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { isLoopbackAddress, isPublicAddress } from './address-policy';
import { checkWebhookUrl, UrlVerdict } from './url-policy';

/** All addresses a host name resolves to. Rejects when the name does not resolve. */
export type HostResolver = (hostname: string) => Promise<string[]>;

/** The operating system's resolver (getaddrinfo), the same one connections use. */
export const systemResolver: HostResolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true });
  return answers.map((a) => a.address);
};

export interface DestinationCheckOptions {
  /** Development only: allows http and loopback targets. Off in production. */
  allowInsecureTargets: boolean;
  /** Replaces DNS in tests. Defaults to {@link systemResolver}. */
  resolver?: HostResolver;
}

/** Error codes meaning "this name has no address", as opposed to a resolver failure. */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NXDOMAIN']);

/**
 * The static URL check plus a DNS check: a host name is resolved and refused
 * when any of its addresses is not public (loopback only in development).
 * This gives an early, explainable rejection when a subscription is saved; it
 * is not the protection against DNS rebinding, which is the sender's check of
 * the address it actually connects to.
 */
export async function checkWebhookDestination(raw: string, options: DestinationCheckOptions): Promise<UrlVerdict> {
  const verdict = checkWebhookUrl(raw, { allowInsecureTargets: options.allowInsecureTargets });
  if (!verdict.ok) return verdict;
  const hostname = verdict.url.hostname;
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  // IP literals were fully judged by the static check.
  if (isIP(bare) !== 0) return verdict;

  const resolve = options.resolver ?? systemResolver;
  let addresses: string[];
  try {
    addresses = await resolve(hostname);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (!code || NO_SUCH_NAME.has(code)) return { ok: false, reason: 'does not resolve' };
    return { ok: false, reason: `does not resolve (${code})` };
  }
  if (addresses.length === 0) return { ok: false, reason: 'does not resolve' };
  const allowed = (address: string): boolean => isPublicAddress(address) || (options.allowInsecureTargets && isLoopbackAddress(address));
  const bad = addresses.find((a) => !allowed(a));
  if (bad !== undefined) {
    return { ok: false, reason: `resolves to a private, loopback, link-local or reserved address (${bad})` };
  }
  return verdict;
}
