// `linguascope serve` as a process: checks its options, starts the server, prints the one URL line
// and stops cleanly on SIGINT/SIGTERM without cancelling anything silently:
//   1st signal: no new page, connection or job; each running job is reported (one line) and
//               waited for, while open pages keep receiving its progress and result;
//   2nd signal: the running jobs are cancelled (one line each) and the process exits 130/143.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { JobInfo } from '../../shared/dto';
import { resolveDbPath } from '../store/paths';
import { isWildcard } from './access';
import { startHarness, type ServeOptions } from './server';

/** A bad option or a port that cannot be had: the CLI prints it as one line and exits 2. */
export class ServeSetupError extends Error {}

export const DEFAULT_PORT = 5317;
const POLL_MS = 400;
/** How long cancelled jobs get to stop before the process exits anyway. */
const CANCEL_GRACE_MS = 30_000;

export function parseServeOptions(values: { port?: string; host?: string; db?: string }): ServeOptions {
  const portText = values.port ?? String(DEFAULT_PORT);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new ServeSetupError(`--port must be a port number from 0 to 65535 (0 picks a free one); got ${JSON.stringify(portText.slice(0, 40))}`);
  }
  const hostText = values.host ?? '127.0.0.1';
  // An IP literal only: the Host check compares addresses, and a name could resolve elsewhere.
  const host = hostText.toLowerCase() === 'localhost' ? '127.0.0.1' : hostText;
  if (isIP(host) === 0) {
    throw new ServeSetupError(`--host must be an IP address to bind (127.0.0.1, the default; 0.0.0.0 for every interface); got ${JSON.stringify(hostText.slice(0, 60))}`);
  }
  return { port: Number(portText), host, dbPath: resolveDbPath(values.db) };
}

export interface ServeIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: ServeIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** One line per job: id, method, what it works on and how far it got. */
export function describeJob(job: JobInfo): string {
  const p = job.progress;
  const progress = p ? ` — ${p.stage} ${p.done}/${p.total}${p.etaSeconds !== undefined ? `, about ${Math.ceil(p.etaSeconds)} s left` : ''}` : ' — not started yet';
  return `  ${job.jobId}  ${job.method} ${job.summary}${progress}`.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/** Serves until a signal ends it; resolves with the process's exit code. */
export async function runServe(options: ServeOptions, io: ServeIo = consoleIo): Promise<number> {
  let server: Awaited<ReturnType<typeof startHarness>>;
  try {
    server = await startHarness(options);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new ServeSetupError(`port ${options.port} on ${options.host} is in use (listen EADDRINUSE); choose another with --port, or --port 0 for a free one`);
    if (e.code === 'EADDRNOTAVAIL') throw new ServeSetupError(`--host ${options.host} is not an address of this machine (listen EADDRNOTAVAIL)`);
    if (e.code === 'EACCES') throw new ServeSetupError(`port ${options.port} needs privileges to bind (listen EACCES); choose a port above 1023`);
    throw error;
  }

  const running = async (): Promise<JobInfo[]> => (await (await server.backendApi()).jobs.list({})).filter((j) => j.state === 'running');

  return new Promise<number>((resolve) => {
    let stage: 'serving' | 'waiting' | 'cancelling' = 'serving';
    let timer: NodeJS.Timeout | undefined;
    let generation = 0; // a newer wait (the cancel's) makes an older one's in-flight poll a no-op
    const finish = async (code: number) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await server.close();
      resolve(code);
    };
    /** Polls the job list until it is empty (or `deadline` passes), reporting each job that ends;
     * a backend that cannot answer ends the wait with exit 1 (said on stderr). */
    const waitForJobs = (ids: Set<string>, deadline: number, then: (left: JobInfo[]) => void) => {
      const mine = ++generation;
      const poll = async () => {
        let left: JobInfo[];
        try {
          left = await running();
          if (mine !== generation) return;
        } catch (error) {
          if (mine !== generation) return;
          io.err(`serve: the backend could not list its jobs (${(error as Error).message.slice(0, 160)}); stopping`);
          return void finish(1);
        }
        const still = new Set(left.map((j) => j.jobId));
        for (const id of ids) if (!still.has(id)) (ids.delete(id), io.err(`serve: job ${id} ended`));
        // Jobs that joined the list while draining (a job method already past the relay) are waited for too.
        for (const j of left) if (!ids.has(j.jobId)) (ids.add(j.jobId), io.err(describeJob(j)));
        if (left.length === 0 || Date.now() > deadline) return then(left);
        timer = setTimeout(() => void poll(), POLL_MS);
      };
      timer = setTimeout(() => void poll(), POLL_MS);
    };

    const onSignal = (signal: NodeJS.Signals) => {
      if (stage === 'serving') {
        stage = 'waiting';
        server.drain();
        void running().then(
          (jobs) => {
            if (stage !== 'waiting') return;
            if (jobs.length === 0) {
              io.err(`serve: ${signal}: no job is running; stopped`);
              return void finish(0);
            }
            io.err(`serve: ${signal}: waiting for ${jobs.length} running job${jobs.length === 1 ? '' : 's'} to finish (send ${signal} again, e.g. Ctrl+C, to cancel ${jobs.length === 1 ? 'it' : 'them'}):`);
            jobs.forEach((j) => io.err(describeJob(j)));
            waitForJobs(new Set(jobs.map((j) => j.jobId)), Infinity, () => {
              if (stage !== 'waiting') return;
              io.err('serve: every job ended; stopped');
              void finish(0);
            });
          },
          (error: Error) => {
            io.err(`serve: the backend could not list its jobs (${error.message.slice(0, 160)}); stopping`);
            void finish(1);
          },
        );
      } else if (stage === 'waiting') {
        stage = 'cancelling';
        clearTimeout(timer);
        generation += 1;
        const code = signal === 'SIGINT' ? 130 : 143;
        void (async () => {
          const api = await server.backendApi();
          const jobs = await running().catch(() => [] as JobInfo[]);
          for (const job of jobs) {
            const answer = await api.jobs.cancel({ jobId: job.jobId }).catch(() => undefined);
            io.err(answer?.cancelled ? `serve: cancelled ${job.jobId} (${job.method})` : `serve: ${job.jobId} (${job.method}) had already ended`);
          }
          waitForJobs(new Set(jobs.map((j) => j.jobId)), Date.now() + CANCEL_GRACE_MS, (left) => {
            if (left.length) io.err(`serve: ${left.length} cancelled job(s) had not stopped after ${CANCEL_GRACE_MS / 1000} s; exiting anyway`);
            void finish(code);
          });
        })();
      } else {
        // A third signal: the user insists.
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
    };
    // The handlers are in place before the URL is printed: whoever acts on the URL (a script, a
    // test) may signal at once, and must meet the drain, not the default kill.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    io.out(server.url);
    if (isWildcard(server.address)) {
      io.err(`serve: listening on every interface of this machine; from elsewhere use its address in place of 127.0.0.1 (the token is required)`);
    }
  });
}

/** `node out/main/harness.js [--port N] [--host ADDR] [--db PATH]`: the same as `linguascope serve`. */
export function serveFromArgv(argv: string[]): void {
  let options: ServeOptions;
  try {
    const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, db: { type: 'string' } } });
    options = parseServeOptions(values);
  } catch (error) {
    process.stderr.write(`linguascope serve: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  runServe(options).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      process.stderr.write(`linguascope serve: ${error.message.split('\n')[0]}\n`);
      process.exitCode = error instanceof ServeSetupError ? 2 : 1;
    },
  );
}
