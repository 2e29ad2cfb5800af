// The file an `app://linguascope/<path>` request serves from the built renderer folder, or null.
// The window loads the UI through this custom protocol instead of file:// (Electron's security
// checklist: file:// pages may read any local file the process can). Pure, so it is tested in Node.
import { extname, join, normalize, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'linguascope';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export interface AppAsset {
  file: string;
  type: string;
}

/** `rendererDir` must be absolute. Refuses other hosts, encoded separators, `..` and NUL. */
export function resolveAppAsset(rendererDir: string, requestUrl: string): AppAsset | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return null; // a malformed escape such as %ff
  }
  if (path.includes('\0') || path.includes('\\') || path.split('/').includes('..')) return null;
  if (path === '/' || path === '') path = '/index.html';
  const type = TYPES[extname(path).toLowerCase()];
  if (!type) return null;
  const file = normalize(join(rendererDir, path));
  if (!file.startsWith(rendererDir.endsWith(sep) ? rendererDir : rendererDir + sep)) return null;
  return { file, type };
}
