// `linguascope <command>`: the headless front door over the same backend (a worker thread).
// User errors exit 2 with one line naming the problem; internal errors exit 1.
import { createApi } from '../shared/client';
import { ApiError } from '../shared/errors';
import { startBackendWorker } from '../main/backend/worker-host';
import { resolveDbPath } from '../main/store/paths';
import { parseCommandLine, UsageError } from './args';
import { COMMANDS } from './commands/index';

const HELP = `LinguaScope — cross-linguistic SAE activation workbench (headless)

Usage: linguascope <command> [options]

Commands:
${COMMANDS.map((c) => c.usage).join('\n')}

Common options:
  --db PATH    the SQLite database (default: $LINGUASCOPE_DB, else the app-data folder)
  --json       print results as JSON
  -h, --help   this text
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  const [name, ...rest] = positionals;
  if (values.help || !name) {
    process.stdout.write(HELP);
    return name || values.help ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
  command.check?.(values, rest);
  if (command.standalone) return command.standalone(values);
  const worker = await startBackendWorker(resolveDbPath(values.db));
  const api = createApi(worker.open());
  const stopWatching = worker.onExit((error) => api.failAll(error));
  try {
    await command.run({ api, values, rest });
    return 0;
  } finally {
    stopWatching();
    api.dispose();
    await worker.terminate();
  }
}

/** One line for the terminal: control characters (a newline in a file's field, say) cannot forge extra lines. */
function oneLine(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

// `linguascope … | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const isArgsError = error instanceof Error && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || isArgsError || (error instanceof ApiError && error.code !== 'INTERNAL')) {
      process.stderr.write(`linguascope: ${oneLine((error as Error).message)}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`linguascope: internal error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
      process.exitCode = 1;
    }
  },
);
