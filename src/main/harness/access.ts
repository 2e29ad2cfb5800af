// Who may talk to the served UI. Any local process can open a TCP connection and set any header,
// and a web page can reach the server by DNS rebinding, so three checks stand together:
// - a per-launch secret (the token in the printed URL) for the page and the API, like Jupyter;
//   the API also takes it as `Authorization: Bearer <token>` (scripts; browsers cannot set it);
// - the Host header must name the bound address (a rebound name like evil.example:5317 is
//   refused, so a foreign page can never read a response);
// - the WebSocket Origin must be the page's own (browsers set it; it stops cross-site pages).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** 256 random bits, URL-safe, fresh each launch. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time in the secret: both sides are hashed to 32 bytes first, so neither a length
 * difference nor the position of the first wrong character changes the time taken. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match ? match[1] : undefined;
}

/** Where the server listens: an IP address (`--host`) and the port it got. */
export interface Bound {
  address: string;
  port: number;
}

export function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** An address as it appears in a URL or a Host header: IPv6 in brackets. */
export function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** The host part of a Host header (lower-case, IPv6 brackets kept) and its port, or null. */
function splitHost(host: string): { name: string; port: number | undefined } | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.toLowerCase());
  if (!match) return null;
  return { name: match[1], port: match[2] === undefined ? undefined : Number(match[2]) };
}

/**
 * The Host header a request to the bound socket may carry:
 * - bound to a loopback address: that address, 127.0.0.1 or localhost;
 * - bound to a wildcard (0.0.0.0, ::): any IP literal or localhost — every address of the machine
 *   reaches the socket, and DNS rebinding needs a name, which is what this refuses;
 * - bound to another address: that address only.
 * The port must be the bound one (browsers leave out :80).
 */
export function hostAllowed(host: string | undefined, bound: Bound): boolean {
  if (host === undefined) return false;
  const parts = splitHost(host);
  if (!parts) return false;
  if ((parts.port ?? 80) !== bound.port) return false;
  const bare = parts.name.replace(/^\[(.*)\]$/, '$1');
  if (isWildcard(bound.address)) return bare === 'localhost' || (isIP(bare) !== 0 && !isWildcard(bare));
  const own = bare === bound.address.toLowerCase() && (isIP(bare) === 6) === parts.name.startsWith('[');
  if (isLoopback(bound.address)) return own || bare === 'localhost' || parts.name === '127.0.0.1';
  return own;
}

/** A WebSocket's Origin must be the page's own origin: `http://` + the request's (allowed) Host. */
export function originAllowed(origin: string | undefined, host: string | undefined, bound: Bound): boolean {
  if (origin === undefined || host === undefined || !hostAllowed(host, bound)) return false;
  return origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

/** The request target split without normalising: a path must start with '/' and be valid
 * percent-encoding (decoded), the query is read leniently. `null` for anything else. */
export function parseTarget(rawUrl: string | undefined): { path: string; query: URLSearchParams } | null {
  if (!rawUrl || !rawUrl.startsWith('/') || rawUrl.startsWith('//')) return null;
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return null; // '/%ff', '/%'
  }
  if (path.includes('\0')) return null;
  return { path, query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)) };
}
