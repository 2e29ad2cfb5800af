#!/usr/bin/env node
// The CLI runs from the build (out/main/cli.js), made by `npm run build` (run on install by `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('linguascope: the app is not built yet; run `npm run build` first\n');
  process.exit(2);
}
await import(cli);
