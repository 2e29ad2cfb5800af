// The harness's request checks as plain functions: URL targets, Host, Origin, token.
import { describe, expect, it } from 'vitest';
import { hostAllowed, newToken, originAllowed, parseTarget, tokenMatches } from './access';

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
  it('accept only the bound loopback host:port', () => {
    for (const host of ['127.0.0.1:5317', 'localhost:5317', 'LOCALHOST:5317']) expect(hostAllowed(host, 5317)).toBe(true);
    for (const host of [undefined, '', '127.0.0.1', 'localhost', '127.0.0.1:5318', 'evil.example:5317', '[::1]:5317', '127.0.0.1:5317.evil.example', '0.0.0.0:5317']) {
      expect(hostAllowed(host, 5317), String(host)).toBe(false);
    }
    expect(hostAllowed('127.0.0.1', 80)).toBe(true);
  });

  it('accept only the harness page as Origin', () => {
    expect(originAllowed('http://127.0.0.1:5317', 5317)).toBe(true);
    expect(originAllowed('http://localhost:5317', 5317)).toBe(true);
    for (const origin of [undefined, 'null', 'http://evil.example', 'https://127.0.0.1:5317', 'http://127.0.0.1:5318', 'http://127.0.0.1:5317/', 'http://127.0.0.1:53170']) {
      expect(originAllowed(origin, 5317), String(origin)).toBe(false);
    }
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
