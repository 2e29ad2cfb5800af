// `linguascope sweep` and `linguascope correlate` on the built CLI: a 2×1×1 sweep on the demo with
// a tiny multiple-choice dataset writes every point and the comparison and, run again, reads them
// back; `correlate` pairs a held-out analysis (a report folder's summary.json) with a point's
// evaluation; bad grids and bad sources exit 2 with one line naming the flag, before any work.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';
import { writePairsCorpus } from '../helpers/pairs-corpus';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const DEMO = join(ROOT, 'resources', 'demo');
const tmp = tempDir('linguascope-study-cli-');
const DB = join(tmp.dir, 'study.db');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: DB }, timeout: 300_000 });
  // bin/linguascope.js may rebuild out/ first when sources changed under it.
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('building the app')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

const corpus = () => writePairsCorpus(tmp.dir);

function mcData(): string {
  const root = join(tmp.dir, 'mc');
  const rows = {
    en: [['The sky is', ['blue', 'green'], 0], ['Two and two make', ['five', 'four'], 1], ['Fire is', ['hot', 'cold'], 0], ['A cat says', ['moo', 'meow'], 1]],
    hi: [['आसमान का रंग', ['नीला', 'हरा'], 0], ['दो और दो', ['पाँच', 'चार'], 1], ['आग', ['गरम', 'ठंडी'], 0], ['बिल्ली कहती है', ['मू', 'म्याऊँ'], 1]],
  } as const;
  for (const [lang, items] of Object.entries(rows)) {
    mkdirSync(join(root, 'data', lang), { recursive: true });
    writeFileSync(join(root, 'data', lang, 'test.jsonl'), items.map(([context, choices, gold]) => JSON.stringify({ context, choices, gold })).join('\n') + '\n');
  }
  return root;
}

describe('linguascope sweep / correlate', () => {
  const tsv = corpus();
  const data = mcData();
  const out = join(tmp.dir, 'sweep');
  const base = ['sweep', '--model', join(DEMO, 'model'), '--saes', join(DEMO, 'saes'), '--languages', 'en,hi', '--corpus', tsv, '--steps', '2', '--batch', '4', '--held-out', '0.3', '--rank', '4', '--alpha', '8', '--eval-every', '2', '--checkpoint-every', '2'];
  afterAll(() => tmp.cleanup());

  it('runs the grid, prints the comparison, and a second call reads the points back', () => {
    const args = [...base, '--retention-weight', '0.5,2', '--adapt-layers-sets', '0-1', '--eval-data', data, '--task', 'mc', '--out', out];
    const r = cli(...args);
    expect(r.stderr).toMatch(/^point 1\/2: alpha 0\.5, layers 0-1, sae-codes\npoint 2\/2: alpha 2, layers 0-1, sae-codes$/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0].split('\t')).toEqual(['#', 'point', 'status', 'outcome', 'steps', 'gain hi %', 'mean gain %', 'English retention %', 'Δ acc mc/en (pp)', 'Δ acc mc/hi (pp)']);
    expect(lines[1]).toMatch(/^1\talpha-0\.5_layers-0-1_sae-codes\tran\tcompleted\t2\t/);
    expect(lines[2]).toMatch(/^2\talpha-2_layers-0-1_sae-codes\tran\tcompleted\t2\t/);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['sweep.json', 'sweep.csv', 'sweep.html', 'gain-retention.svg', 'accuracy.svg', 'sweep-plan.json']));
    const again = cli(...args);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n').slice(1, 3).every((l) => l.split('\t')[2] === 'done before')).toBe(true);
    // The figures read back are the ones written.
    expect(again.stdout.split('\n').slice(1, 3).map((l) => l.split('\t').slice(5).join('\t'))).toEqual(lines.slice(1, 3).map((l) => l.split('\t').slice(5).join('\t')));
  }, 600_000);

  it('correlate: a report folder\'s summary.json against a point\'s evaluation', () => {
    const point = join(out, 'alpha-0.5_layers-0-1_sae-codes');
    const ft = JSON.parse(readFileSync(join(point, 'report', 'result.json'), 'utf8'));
    const report = join(tmp.dir, 'analysis');
    mkdirSync(report);
    writeFileSync(join(report, 'summary.json'), JSON.stringify(ft.analysis.before));
    const corr = join(tmp.dir, 'corr');
    const r = cli('correlate', '--analysis', report, '--eval', join(point, 'eval'), '--measure', 'deficit', '--out', corr);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: n = 2 languages: below 4 no interval/);
    expect(r.stdout).toMatch(/^layer\tn\tPearson r \[95 % CI\]\tSpearman rho \[95 % CI\]\tnote$/m);
    expect(r.stdout.split('\n').filter((l) => /^\d+\t2\t/.test(l))).toHaveLength(ft.analysis.before.layers.length);
    expect(existsSync(join(corr, 'correlation.csv'))).toBe(true);
  }, 120_000);

  it.each([
    ['a negative α', ['--retention-weight', '1,-1'], /^linguascope: --retention-weight: α -1 is below 0/],
    ['a duplicate α', ['--retention-weight', '1,1'], /^linguascope: --retention-weight: α 1 is listed twice/],
    ['an empty layer set', ['--adapt-layers-sets', '0-1;;2'], /^linguascope: --adapt-layers-sets: set 2 is empty/],
    ['a backwards range', ['--adapt-layers-sets', '4-1'], /^linguascope: --adapt-layers-sets: the range 4-1 in set 1 runs backwards/],
    ['a layer set beyond the model', ['--adapt-layers-sets', '0-9'], /^linguascope: --adapt-layers-sets: adapted-layer set 1 names layer 6; the model has layers 0..5/],
    ['the same set twice', ['--adapt-layers-sets', '0-1;1,0'], /^linguascope: --adapt-layers-sets: the adapted-layer set 0-1 is listed twice/],
    ['an unknown loss space', ['--space', 'sae-codes,logits'], /^linguascope: --space must be one of/],
    ['--adapt-layers instead of sets', ['--adapt-layers', '0,1'], /^linguascope: sweep takes its adapted layers as sets/],
    ['--task without --eval-data', ['--task', 'mc'], /^linguascope: --task applies to the evaluation; add --eval-data/],
  ])('sweep refuses %s: exit 2, one line, nothing written', (_name, extra, message) => {
    const dir = join(tmp.dir, `bad-${Math.random().toString(36).slice(2)}`);
    const r = cli(...base, ...extra, '--out', dir);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  it.each([
    ['no --eval', ['--analysis', '1'], /^linguascope: correlate needs --eval$/],
    ['a run that does not exist', ['--analysis', '987654', '--eval', join(tmp.dir, 'x')], /^linguascope: run 987654 does not exist/],
    ['a folder without summary.json', ['--analysis', tmp.dir, '--eval', join(tmp.dir, 'x')], /summary\.json: no such file/],
    ['an unknown measure', ['--analysis', '1', '--eval', 'x', '--measure', 'loudness'], /^linguascope: --measure must be one of gap, deficit, mean_activation$/],
  ])('correlate refuses %s: exit 2, one line', (_name, args, message) => {
    const r = cli('correlate', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  }, 60_000);

  it('correlate refuses a file that is not a summary, naming it', () => {
    const file = join(tmp.dir, 'not-a-summary.json');
    writeFileSync(file, JSON.stringify({ layers: 'three' }));
    const r = cli('correlate', '--analysis', file, '--eval', join(out, 'alpha-2_layers-0-1_sae-codes', 'eval'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not-a-summary\.json: is not an analysis report's summary\.json \(languages: /);
  }, 60_000);
});
