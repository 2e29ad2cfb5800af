import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_NAME = 'LinguaScope';

/** The per-user app-data folder, as Electron's app.getPath('userData') gives it on each platform. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), APP_NAME);
}

/** `--db PATH` wins, then LINGUASCOPE_DB, then the app-data folder. */
export function resolveDbPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.LINGUASCOPE_DB) return env.LINGUASCOPE_DB;
  return join(defaultDataDir(env), 'linguascope.db');
}
