import { createRequire } from 'node:module';

/** CommonJS-style resolution from ES modules (package data files, package.json paths). */
export const nodeRequire = createRequire(import.meta.url);
