#!/usr/bin/env node
// The `node-gyp` that this project's dependencies' install scripts run: npm puts the project's
// node_modules/.bin (where this file is linked, as a packed local devDependency) before its own node-gyp
// on their PATH, and links bins before it runs install scripts. (npm's `node-gyp` config setting is
// not passed to dependencies' install scripts, so it cannot do this.) better-sqlite3's install
// script first tries a prebuilt binary, then `node-gyp rebuild`.
// node-gyp downloads Node's headers unless told where they are; offline that fails although the
// running Node ships matching headers. So: when no --nodedir is given, point node-gyp at the
// running Node's own headers if they match its version, then run npm's node-gyp unchanged.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { findNodeHeaders } = require('./node-headers.cjs');

function npmNodeGyp() {
  const candidates = [];
  // npm sets npm_execpath to its own npm-cli.js; node-gyp ships inside npm.
  if (process.env.npm_execpath) candidates.push(join(dirname(dirname(process.env.npm_execpath)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: npm's copy is the one
  }
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    process.stderr.write('linguascope install: cannot find node-gyp (it ships with npm); reinstall npm or set npm_config_node_gyp\n');
    process.exit(1);
  }
  return found;
}

const args = process.argv.slice(2);
const hasNodedir = args.some((a) => a.startsWith('--nodedir')) || !!process.env.npm_config_nodedir;
const targetsOtherRuntime = args.some((a) => /^--(target|runtime|dist-url|disturl)\b/.test(a));
if (!hasNodedir && !targetsOtherRuntime) {
  const prefix = findNodeHeaders();
  if (prefix) {
    args.push(`--nodedir=${prefix}`);
    process.stderr.write(`linguascope install: building native modules against this Node's own headers (${prefix}/include/node)\n`);
  }
}
const run = spawnSync(process.execPath, [npmNodeGyp(), ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
