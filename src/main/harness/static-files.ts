// The built renderer as a fixed list of URL paths, taken once at start. A request is answered only
// when its decoded path is exactly one of them, so no encoding of '..' or of a separator can
// reach a file outside the folder: there is no path arithmetic to fool.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface StaticFile {
  file: string;
  contentType: string;
}

/** URL path ('/index.html', '/assets/index-x.js') -> file, for every file under `dir`. */
export function listStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const urlPath = '/' + relative(dir, file).split(sep).join('/');
    files.set(urlPath, { file, contentType: MIME[extname(file)] ?? 'application/octet-stream' });
  }
  return files;
}
