// Where the running Node's own C headers are, when its install ships them (Debian/Ubuntu's nodejs
// package: /usr/include/node; nvm and the official Linux/macOS tarballs: <prefix>/include/node;
// Homebrew: the Cellar keg behind the bin/node symlink). The Windows installer ships none, and a
// header folder of another Node version is not used: node-gyp then downloads the right ones, as it
// always does. CommonJS and dependency-free: npm runs it before anything of ours is built.
'use strict';
const { existsSync, readFileSync, realpathSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** "20.20.2" from a node_version.h, or null when the file is missing or unreadable. */
function headerVersion(prefix) {
  try {
    const text = readFileSync(join(prefix, 'include', 'node', 'node_version.h'), 'utf8');
    const part = (name) => text.match(new RegExp(`#define\\s+${name}\\s+(\\d+)`))?.[1];
    const [major, minor, patch] = [part('NODE_MAJOR_VERSION'), part('NODE_MINOR_VERSION'), part('NODE_PATCH_VERSION')];
    return major && minor && patch ? `${major}.${minor}.${patch}` : null;
  } catch {
    return null;
  }
}

/**
 * The install prefix whose include/node matches `version` (e.g. "v20.20.2"), or null.
 * Candidates: the prefix Node was configured with, then the folder above the real executable.
 */
function findNodeHeaders({ execPath = process.execPath, version = process.version, configPrefix = process.config?.variables?.node_prefix } = {}) {
  const candidates = [];
  try {
    candidates.push(dirname(dirname(realpathSync(execPath))));
  } catch {
    // an executable path we cannot resolve: only the configured prefix remains
  }
  if (typeof configPrefix === 'string' && configPrefix) candidates.push(configPrefix);
  const wanted = version.replace(/^v/, '');
  for (const prefix of candidates) {
    if (headerVersion(prefix) === wanted && existsSync(join(prefix, 'include', 'node', 'common.gypi'))) return prefix;
  }
  return null;
}

module.exports = { findNodeHeaders, headerVersion };
