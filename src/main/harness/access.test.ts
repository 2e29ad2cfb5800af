// The served mode's request checks as plain functions: URL targets, Host, Origin, token.
import { describe, expect, it } from 'vitest';
import { bearerToken, hostAllowed, newToken, originAllowed, parseTarget, tokenMatches } from './access';

describe('parseTarget', () => {
  it('decodes valid paths and reads the query', () => {
    expect(parseTarget('/assets/a%20b.js?token=x%2By')).toMatchObject({ path: '/assets/a b.js' });
    expect(parseTarget('/?token=x%2By')!.query.get('token')).toBe('x+y');
    expect(parseTarget('/..%2f..%2fetc%2fpasswd')!.path).toBe('/../../etc/passwd'); // decoded, never joined to a folder
  });

  it.each([undefined, '', '*', 'http://evil.example/', '//evil.example/x', 'index.html', '/%ff', '/%', '/%e0%a4', '/a%zz', '/%00', '/x%00.js'])('refuses %j', (url) => {
    expect(parseTarget(url)).toBeNull();
  });
});

describe('Host and Origin', () => {
  const loop = { address: '127.0.0.1', port: 5317 };

  it('bound to 127.0.0.1: only 127.0.0.1:port or localhost:port', () => {
    for (const host of ['127.0.0.1:5317', 'localhost:5317', 'LOCALHOST:5317']) expect(hostAllowed(host, loop)).toBe(true);
    for (const host of [undefined, '', '127.0.0.1', 'localhost', '127.0.0.1:5318', 'evil.example:5317', '[::1]:5317', '127.0.0.1:5317.evil.example', '0.0.0.0:5317', '127.0.0.2:5317', '127.0.0.1:05317x', 'user@127.0.0.1:5317', '127.0.0.1:5317:5317']) {
      expect(hostAllowed(host, loop), String(host)).toBe(false);
    }
    expect(hostAllowed('127.0.0.1', { address: '127.0.0.1', port: 80 })).toBe(true);
  });

  it('bound to another loopback address: that address, 127.0.0.1 or localhost', () => {
    const b = { address: '127.0.0.2', port: 6000 };
    for (const host of ['127.0.0.2:6000', '127.0.0.1:6000', 'localhost:6000']) expect(hostAllowed(host, b), host).toBe(true);
    for (const host of ['127.0.0.3:6000', '127.0.0.2:6001', 'evil.example:6000', '[::1]:6000']) expect(hostAllowed(host, b), host).toBe(false);
    const v6 = { address: '::1', port: 6000 };
    expect(hostAllowed('[::1]:6000', v6)).toBe(true);
    expect(hostAllowed('localhost:6000', v6)).toBe(true);
    expect(hostAllowed('::1:6000', v6)).toBe(false);
  });

  it('bound to a non-loopback address: that address only (checked without binding it)', () => {
    const b = { address: '192.0.2.7', port: 5317 };
    expect(hostAllowed('192.0.2.7:5317', b)).toBe(true);
    for (const host of ['127.0.0.1:5317', 'localhost:5317', '192.0.2.8:5317', 'gpu-box:5317', '192.0.2.7']) expect(hostAllowed(host, b), host).toBe(false);
  });

  it('bound to a wildcard: IP literals and localhost at the port, never a name (DNS rebinding)', () => {
    for (const address of ['0.0.0.0', '::']) {
      const b = { address, port: 5317 };
      for (const host of ['127.0.0.1:5317', '192.0.2.7:5317', '[::1]:5317', '[2001:db8::1]:5317', 'localhost:5317']) expect(hostAllowed(host, b), `${address} ${host}`).toBe(true);
      for (const host of ['gpu-box:5317', 'evil.example:5317', '192.0.2.7:5318', '0.0.0.0:5317', '[::]:5317', '192.0.2.7.nip.io:5317']) expect(hostAllowed(host, b), `${address} ${host}`).toBe(false);
    }
  });

  it('accept only the page itself as Origin: http:// + the request Host', () => {
    expect(originAllowed('http://127.0.0.1:5317', '127.0.0.1:5317', loop)).toBe(true);
    expect(originAllowed('http://localhost:5317', 'localhost:5317', loop)).toBe(true);
    expect(originAllowed('http://localhost:5317', '127.0.0.1:5317', loop)).toBe(false);
    for (const origin of [undefined, 'null', 'http://evil.example', 'https://127.0.0.1:5317', 'http://127.0.0.1:5318', 'http://127.0.0.1:5317/', 'http://127.0.0.1:53170']) {
      expect(originAllowed(origin, '127.0.0.1:5317', loop), String(origin)).toBe(false);
    }
    // A foreign Host cannot make its own Origin acceptable.
    expect(originAllowed('http://evil.example:5317', 'evil.example:5317', loop)).toBe(false);
  });

  it('reads a Bearer token only from a well-formed header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Tokenabc', 'Bearerabc']) expect(bearerToken(header), String(header)).toBeUndefined();
  });
});

describe('token', () => {
  it('is fresh, URL-safe and 256 bits', () => {
    const a = newToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(a);
  });

  it('matches only itself, whatever the length of the guess', () => {
    const t = newToken();
    expect(tokenMatches(t, t)).toBe(true);
    for (const guess of [null, undefined, '', t.slice(0, -1), `${t}x`, t.toUpperCase() === t ? t.toLowerCase() : t.toUpperCase(), `${t.slice(0, -1)}${t.endsWith('a') ? 'b' : 'a'}`, 'x'.repeat(10_000)]) {
      expect(tokenMatches(t, guess), String(guess).slice(0, 20)).toBe(false);
    }
  });
});
