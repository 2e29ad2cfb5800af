// What a CLI command is: its usage lines for --help, a check of its arguments before the backend
// starts (so a usage error costs nothing), and its run over the typed API.
import type { Api } from '../shared/client';
import type { CliValues } from './args';

export interface CliContext {
  api: Api;
  values: CliValues;
  /** Positionals after the command name (e.g. `languages add hi`). */
  rest: string[];
}

export interface CliCommand {
  name: string;
  usage: string;
  check?(values: CliValues, rest: string[]): void;
  run(ctx: CliContext): Promise<void>;
  /** A command that starts and owns its own backend (serve): run instead of `run`, without the
   * CLI's session; resolves with the exit code. */
  standalone?(values: CliValues): Promise<number>;
}
