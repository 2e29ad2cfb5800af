// `linguascope serve`: the UI and the backend for a browser, e.g. on a GPU workstation reached
// through an SSH tunnel (src/main/harness/serve-process.ts does the work).
import { UsageError } from '../args';
import type { CliCommand } from '../command';
import { parseServeOptions, runServe, ServeSetupError } from '../../main/harness/serve-process';

function options(values: Parameters<NonNullable<CliCommand['check']>>[0]) {
  if (values['no-token']) {
    throw new UsageError('the access token cannot be turned off: whoever reaches the port could run jobs and read files through the backend; keep the printed URL private instead');
  }
  try {
    return parseServeOptions(values);
  } catch (error) {
    throw error instanceof ServeSetupError ? new UsageError(error.message) : error;
  }
}

export const serve: CliCommand = {
  name: 'serve',
  usage: `  serve [--port N] [--host ADDR]            the desktop UI in a browser, over the same backend: prints one URL with a
                                            per-launch token; binds 127.0.0.1:5317 by default (--port 0 picks a free port;
                                            --host 0.0.0.0 every interface, token still required); Ctrl+C waits for
                                            running jobs, a second Ctrl+C cancels them`,
  check(values, rest) {
    if (rest.length) throw new UsageError(`serve takes no positional arguments (got "${rest[0].slice(0, 40)}")`);
    options(values);
  },
  run() {
    return Promise.reject(new Error('serve runs standalone'));
  },
  async standalone(values) {
    try {
      return await runServe(options(values));
    } catch (error) {
      throw error instanceof ServeSetupError ? new UsageError(error.message) : error;
    }
  },
};
