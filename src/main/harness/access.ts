// Who may talk to the harness. Any local process can open a TCP connection to 127.0.0.1 and set
// any Origin header, and a web page can reach it by DNS rebinding, so three checks stand together:
// - a per-launch secret (the token in the printed URL) for the page and the API, like Jupyter;
// - the Host header must name the bound loopback address (a rebound name like evil.example:5317
//   is refused, so a foreign page can never read a response);
// - the WebSocket Origin must be the harness's own (browsers set it; it stops cross-site pages).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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

/** The `host:port` spellings of the bound loopback socket a browser may send. */
function ownHosts(port: number): string[] {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  // Browsers leave the default port out of Host and Origin.
  return port === 80 ? [...hosts, '127.0.0.1', 'localhost'] : hosts;
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  return host !== undefined && ownHosts(port).includes(host.toLowerCase());
}

export function originAllowed(origin: string | undefined, port: number): boolean {
  return origin !== undefined && ownHosts(port).some((h) => origin.toLowerCase() === `http://${h}`);
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
