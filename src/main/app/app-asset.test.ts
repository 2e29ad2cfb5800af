import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAppAsset } from './app-asset';

const root = join('/', 'opt', 'LinguaScope', 'out', 'renderer');

describe('resolveAppAsset: app://linguascope/ serves the built renderer and nothing else', () => {
  it.each([
    ['app://linguascope/', 'index.html', 'text/html; charset=utf-8'],
    ['app://linguascope/index.html', 'index.html', 'text/html; charset=utf-8'],
    ['app://linguascope/assets/index-abc.js', 'assets/index-abc.js', 'text/javascript; charset=utf-8'],
    ['app://linguascope/assets/index.css?v=1#x', 'assets/index.css', 'text/css; charset=utf-8'],
    ['app://linguascope/assets/a%20b.svg', 'assets/a b.svg', 'image/svg+xml'],
  ])('%s → %s', (url, file, type) => {
    expect(resolveAppAsset(root, url)).toEqual({ file: join(root, file), type });
  });

  it.each(['app://linguascope/../../etc/passwd.html', 'app://linguascope/%2e%2e/%2e%2e/etc/x.js'])('keeps dot segments inside the folder: %s', (url) => {
    const asset = resolveAppAsset(root, url);
    expect(asset?.file.startsWith(root + '/')).toBe(true);
    expect(asset?.file).toContain(join(root, 'etc'));
  });

  it.each([
    'app://other/index.html',
    'file:///etc/passwd',
    'https://linguascope/index.html',
    'app://linguascope/assets/..%2f..%2f..%2fetc%2fx.js',
    'app://linguascope/assets/%5c..%5cx.js',
    'app://linguascope/%ff.js',
    'app://linguascope/%',
    'app://linguascope/index.html%00.js',
    'app://linguascope/secret.db',
    'app://linguascope/main/app.mjs',
    'not a url',
  ])('refuses %s', (url) => {
    expect(resolveAppAsset(root, url)).toBeNull();
  });
});
