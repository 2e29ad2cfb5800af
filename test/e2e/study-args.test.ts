// `linguascope study` on the built CLI: each class of bad arguments exits 2 with one line naming
// the flag, before the backend does any work (no output folder, no stored run); `--help` lists the
// command. The study itself runs in src/main/backend/study-run.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const DEMO = join(ROOT, 'resources', 'demo');
const tmp = tempDir('linguascope-study-args-');
const DB = join(tmp.dir, 'study.db');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: DB }, timeout: 120_000 });
  // bin/linguascope.js may rebuild out/ first when sources changed under it.
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('building the app')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

/** Stored runs: none may appear for a refused study. */
function runs(): number {
  if (!existsSync(DB)) return 0;
  const db = new Database(DB, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get() as { n: number }).n
      ? (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n
      : 0;
  } finally {
    db.close();
  }
}

describe('linguascope study: usage errors', () => {
  afterAll(() => tmp.cleanup());
  const out = join(tmp.dir, 'study');
  const base = ['study', '--model', join(DEMO, 'model'), '--saes', join(DEMO, 'saes'), '--languages', 'en,es,hi'];

  it('--help lists study and demo', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}study --model DIR --saes DIR --languages .* --out DIR/m);
    expect(r.stdout).toMatch(/^ {2}demo \[--out DIR\]/m);
  });

  it.each([
    ['no --out', [], /^linguascope: study needs --out$/],
    ['no --model, --saes, --languages', ['STUDY-ONLY', '--out', out], /^linguascope: study needs --model, --saes, --languages$/],
    ['an empty --languages', ['--languages', ',', '--out', out], /^linguascope: --languages needs a comma-separated list/],
    ['an empty --targets', ['--targets', ' ', '--out', out], /^linguascope: --targets needs a comma-separated list/],
    ['an unknown --reduction', ['--reduction', 'median', '--out', out], /^linguascope: --reduction must be one of mean, max$/],
    ['a --reduction in capitals', ['--reduction', 'MAX', '--out', out], /^linguascope: --reduction must be one of mean, max$/],
    ['a --choices that is no number', ['--choices', 'four', '--out', out], /^linguascope: --choices: "four" is not a non-negative integer$/],
    ['a --choices with a fraction', ['--choices', '3.5', '--out', out], /^linguascope: --choices: "3\.5" is not a non-negative integer$/],
    ['a --choices list', ['--choices', '3,4', '--out', out], /^linguascope: --choices takes one whole number, not a list \("3,4"\)$/],
    ['a --limit list', ['--limit', '5,6', '--out', out], /^linguascope: --limit takes one whole number, not a list/],
    ['a --bootstrap list', ['--bootstrap', '10,20', '--out', out], /^linguascope: --bootstrap takes one whole number, not a list/],
    ['a bad fine-tune setting', ['--steps', 'many', '--out', out], /^linguascope: --steps: "many" is not a non-negative integer$/],
    ['a fine-tune setting list', ['--steps', '2,4', '--out', out], /^linguascope: --steps takes one whole number, not a list/],
    ['an unknown flag', ['--tragets', 'hi', '--out', out], /^linguascope: Unknown option '--tragets'/],
    ['another command\'s flag (--target for --targets)', ['--target', 'hi', '--out', out], /^linguascope: study does not take --target \(did you mean --targets\?\)$/],
    ['an analysis flag the study does not read', ['--features', 'all', '--out', out], /^linguascope: study does not take --features$/],
    ['a boolean flag of another command', ['--resume', '--out', out], /^linguascope: study does not take --resume$/],
  ])('%s: exit 2, one line, nothing written', (_, extra, message) => {
    const args = extra[0] === 'STUDY-ONLY' ? ['study', ...extra.slice(1)] : [...base, ...extra];
    const r = cli(...args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(runs()).toBe(0);
  });

  it.each([
    ['--targets en', ['--targets', 'en'], /^linguascope: English is the reference .* cannot be a target$/],
    ['--targets EN', ['--targets', 'hi,EN'], /^linguascope: English is the reference .* cannot be a target$/],
    ['--targets not among --languages', ['--targets', 'ml'], /^linguascope: target ml is not among the languages measured \(en, es, hi\)$/],
    ['--choices 1', ['--choices', '1'], /^linguascope: .*choices/],
    ['--choices 11', ['--choices', '11'], /^linguascope: .*choices/],
    ['--limit 1', ['--limit', '1'], /^linguascope: .*limit/],
  ])('%s: the backend refuses before any stage: exit 2, one line, nothing written', (_, extra, message) => {
    const started = performance.now();
    const r = cli(...base, ...extra, '--out', out);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(runs()).toBe(0);
    // No measurement ran: the refusal is as quick as starting the backend.
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it.each([
    ['a fine-tune setting', ['--steps', '2']],
    ['a study flag', ['--targets', 'hi']],
    ['another command\'s boolean', ['--resume']],
  ])('demo with %s: exit 2, one line, before any work', (_, extra) => {
    const r = cli('demo', ...extra, '--out', out);
    expect(r.stderr).toMatch(new RegExp(`^linguascope: demo takes only --out .*\\(got ${extra[0]}\\)$`));
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('a --out that is a folder of the user: exit 2 naming it, the folder left as it was', () => {
    const mine = join(tmp.dir, 'mine');
    const r0 = cli('fertility', '--languages', 'en,hi', '--out', mine);
    expect(r0.code).toBe(0);
    const before = readdirSync(mine).sort();
    const r = cli(...base, '--out', mine);
    expect(r.stderr).toMatch(new RegExp(`^linguascope: ${mine.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not empty and is not a study of LinguaScope`));
    expect(r.code).toBe(2);
    expect(readdirSync(mine).sort()).toEqual(before);
  });
});
