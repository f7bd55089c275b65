import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** How long saving an endpoint waits for its host name to resolve. */
export const RESOLVE_TIMEOUT_MS = 3_000;

/**
 * SSRF protection for webhook targets. Only public unicast addresses are allowed (ipaddr.js's
 * `unicast` range, after unwrapping IPv4-mapped IPv6): loopback, private, link-local, unique-local,
 * carrier-grade NAT, multicast, broadcast, reserved, documentation, 6to4/Teredo/NAT64 and the
 * unspecified address are refused, unless WEBHOOK_ALLOW_PRIVATE=true. The URL is checked when an
 * endpoint is saved and the resolved address again at every connection (see `pinnedLookup`).
 */
export class TargetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
  }
}

export function addressAllowed(address: string, allowPrivate: boolean): boolean {
  if (allowPrivate) return true;
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** The URL's host without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Checks the URL's form; returns the problem (for a 400 naming `url`) or null. */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    return allowPrivate ? 'must be an http or https URL' : 'must be an https URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.hash) return 'must not have a fragment';
  const host = hostOf(url);
  if (isIP(host) && !addressAllowed(host, allowPrivate))
    return 'must not point at a private, loopback, link-local or reserved address';
  return null;
}

/** Resolves the URL's host and refuses it when any address it resolves to is not allowed. */
export async function resolveAllowed(url: URL, allowPrivate: boolean): Promise<string[]> {
  const host = hostOf(url);
  if (isIP(host)) {
    if (!addressAllowed(host, allowPrivate))
      throw new TargetRefused(`${host} is a private or reserved address`);
    return [host];
  }
  let found: { address: string }[];
  let timer: NodeJS.Timeout | undefined;
  try {
    // A resolver that does not answer must not hold the request: refused after RESOLVE_TIMEOUT_MS.
    found = await Promise.race([
      dnsLookup(host, { all: true, verbatim: true }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), RESOLVE_TIMEOUT_MS);
      }),
    ]);
  } catch {
    throw new TargetRefused(`${host} does not resolve`);
  } finally {
    clearTimeout(timer);
  }
  if (found.length === 0) throw new TargetRefused(`${host} does not resolve`);
  const refused = found.filter((a) => !addressAllowed(a.address, allowPrivate));
  if (refused.length > 0)
    throw new TargetRefused(`${host} resolves to a private or reserved address`);
  return found.map((a) => a.address);
}

/**
 * A `lookup` for the HTTP request: the socket connects to an address this function checked, so a
 * name that resolves to a public address when the endpoint is saved and to a private one later
 * (DNS rebinding) is refused at connection time.
 */
export function pinnedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    const opts = typeof options === 'object' ? options : {};
    dnsLookup(hostname, { all: true, verbatim: true, family: opts.family ?? 0 })
      .then((found) => {
        if (found.length === 0) throw new TargetRefused(`${hostname} does not resolve`);
        if (found.some((a) => !addressAllowed(a.address, allowPrivate)))
          throw new TargetRefused(`${hostname} resolves to a private or reserved address`);
        if (opts.all) callback(null, found);
        else callback(null, found[0]!.address, found[0]!.family);
      })
      .catch((err: Error) => callback(err as NodeJS.ErrnoException, '', 0));
  };
}
