// A fine-tune killed mid-run (SIGKILL: no handler runs, no checkpoint is written on the way out)
// resumes with `--resume` and ends where an uninterrupted run with the same arguments ends, bit for
// bit: the built CLI on the demo model and SAEs with a checkpoint every step, killed once a
// checkpoint beyond the first exists. What a kill can leave behind is put there on purpose before
// resuming (the kill itself lands at a random point): a half-written checkpoint temporary
// `step-N.safetensors.tmp-<pid>` of the dead process and a torn last line in steps.jsonl. The
// resumed run must start after its checkpoint (not from step 0), finish, log every step once with
// the uninterrupted run's figures, write the same adapter bytes, and leave no temporary behind.
// Needs the build (`npm run build`, or bin/linguascope.js builds it).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/shared/finetune';
import { writePairsCorpus } from '../helpers/pairs-corpus';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const DEMO = join(ROOT, 'resources', 'demo');
const tmp = tempDir('linguascope-finetune-kill-');
const DB = join(tmp.dir, 'kill.db');
const env = { ...process.env, LINGUASCOPE_DB: DB };
const STEPS = 20;

// Short phrases (max-tokens 64 leaves out none of the pairs corpus), 2 pairs a step: each step
// takes tens of milliseconds, so 20 steps leave the poll below ample time to kill mid-run.
const args = (out: string, corpus: string) => [
  'finetune', '--model', join(DEMO, 'model'), '--saes', join(DEMO, 'saes'), '--languages', 'en,hi', '--corpus', corpus,
  '--steps', String(STEPS), '--batch', '2', '--held-out', '0.3', '--max-tokens', '64', '--rank', '4', '--alpha', '8',
  '--lr', '0.01', '--warmup', '2', '--eval-every', '5', '--checkpoint-every', '1', '--seed', '11', '--out', out,
];

function cli(argv: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', env, timeout: 120_000 });
  // bin/linguascope.js may rebuild out/ first when sources changed under it.
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('linguascope: building the app')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

const checkpointSteps = (run: string) => {
  const dir = join(run, 'checkpoints');
  return existsSync(dir) ? readdirSync(dir).flatMap((f) => /^step-(\d+)\.safetensors$/.exec(f)?.[1] ?? []).map(Number).sort((a, b) => a - b) : [];
};

/** Starts the CLI and SIGKILLs it as soon as a checkpoint at step ≥ 2 exists. */
function killMidRun(argv: string[], run: string): Promise<{ pid: number; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      if (checkpointSteps(run).some((s) => s >= 2)) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 2);
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      clearTimeout(guard);
      resolvePromise({ pid: child.pid!, signal, stderr });
    });
  });
}

const readLog = (run: string): LogRecord[] =>
  readFileSync(join(run, 'steps.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogRecord);

/** The log's training figures: a step record's tokens, elapsed_s, tokens_per_s and rss_mib
 * measure the process that ran it (a resumed run restarts its clock and count; the monitor cuts the
 * log into sessions there), so they are left out; everything else must be equal. */
const figures = (log: LogRecord[]) =>
  log.map((r) => {
    if (r.kind !== 'step') return r;
    const { tokens: _t, elapsed_s: _e, tokens_per_s: _s, rss_mib: _m, ...rest } = r;
    return rest;
  });

describe('linguascope finetune: killed with SIGKILL, resumed with --resume', () => {
  afterAll(() => tmp.cleanup());

  it('ends bit-identical to an uninterrupted run, past a torn checkpoint temporary and a torn log line', async () => {
    const corpus = writePairsCorpus(tmp.dir);
    const whole = join(tmp.dir, 'whole');
    const killed = join(tmp.dir, 'killed');

    const reference = cli(args(whole, corpus));
    expect(reference.stderr.split('\n').filter((l) => /^step \d+\//.test(l))).toHaveLength(STEPS);
    expect(reference.code).toBe(0);
    expect(reference.stdout).toMatch(`fine-tune completed: ${STEPS} steps done`);

    const kill = await killMidRun(args(killed, corpus), killed);
    expect(kill.signal).toBe('SIGKILL');
    // The kill landed mid-run: no adapter yet, a checkpoint beyond the first, not every step done.
    expect(existsSync(join(killed, 'adapter'))).toBe(false);
    const kept = checkpointSteps(killed);
    const resumeAt = kept.at(-1)!;
    expect(resumeAt).toBeGreaterThanOrEqual(2);
    expect(resumeAt).toBeLessThan(STEPS);

    // What a kill inside a write leaves: the dead process's half-written next checkpoint, and half
    // a log line with no newline.
    const next = `step-${String(resumeAt + 1).padStart(7, '0')}.safetensors`;
    const latest = readFileSync(join(killed, 'checkpoints', `step-${String(resumeAt).padStart(7, '0')}.safetensors`));
    writeFileSync(join(killed, 'checkpoints', `${next}.tmp-${kill.pid}`), latest.subarray(0, Math.floor(latest.length / 2)));
    appendFileSync(join(killed, 'steps.jsonl'), `{"kind":"step","step":${resumeAt + 1},"loss":0.12`);

    const resumed = cli([...args(killed, corpus), '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(`fine-tune completed: ${STEPS} steps done`);
    // It resumed from its latest checkpoint: the first step it trained is the one after it.
    const trained = resumed.stderr.split('\n').flatMap((l) => /^step (\d+)\//.exec(l)?.[1] ?? []).map(Number);
    expect(trained[0]).toBe(resumeAt + 1);
    expect(trained.at(-1)).toBe(STEPS);

    const adapter = (run: string, name: string) => readFileSync(join(run, 'adapter', name));
    expect(adapter(killed, 'adapter_model.safetensors').equals(adapter(whole, 'adapter_model.safetensors'))).toBe(true);
    expect(adapter(killed, 'adapter_config.json').equals(adapter(whole, 'adapter_config.json'))).toBe(true);
    const log = readLog(killed);
    expect(log.filter((r) => r.kind === 'step').map((r) => r.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(figures(log)).toEqual(figures(readLog(whole)));
    // No temporary of any writer is left in the run folder.
    const litter = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tmp-/.test(f));
    expect(litter(killed)).toEqual([]);
    expect(checkpointSteps(killed).at(-1)).toBe(STEPS);
  }, 120_000);
});
