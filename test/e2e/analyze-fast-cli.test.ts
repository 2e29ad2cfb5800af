// `analyze --precision fast` as a user runs it on the bundled demo model and SAEs: the fidelity
// gate's figures land in summary.json and the report; fast rows never share the float32 cache; a
// gate the user's tolerance makes fail exits 2 with one line naming the figures and writes
// nothing; bad precision and gate flags (each class) exit 2 with one line.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DisparitySummary } from '../../src/shared/dto';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = tempDir();
const db = join(tmp.dir, 'ls.sqlite');
const base = ['analyze', '--model', join(ROOT, 'resources/demo/model'), '--saes', join(ROOT, 'resources/demo/saes'), '--languages', 'en,es,hi,ml', '--limit', '12', '--bootstrap', '0'];
const summaryOf = (out: string) => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DisparitySummary;

describe('analyze --precision fast', () => {
  it('runs after its gate passes, reports the gate, and keeps its rows apart from float32 ones', () => {
    const exactOut = join(tmp.dir, 'exact');
    const e = runCli(db, [...base, '--out', exactOut]);
    expect(e.stderr, e.stdout).toEqual([]);
    expect(e.code).toBe(0);
    const fastOut = join(tmp.dir, 'fast');
    const f = runCli(db, [...base, '--precision', 'fast', '--out', fastOut]);
    expect(f.stderr, f.stdout).toEqual([]);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/fidelity gate \(fast vs exact, 12 segments\): .*passed/);
    const exact = summaryOf(exactOut);
    const fast = summaryOf(fastOut);
    expect(exact.settings.precision).toBeUndefined();
    expect(exact.precision_gate).toBeUndefined();
    expect(fast.settings.precision).toBe('fast');
    const g = fast.precision_gate!;
    expect(g).toMatchObject({ segments: 12, phrases: 48, passed: true, top_k: 20 });
    expect(g.max_mean_rel_diff).toBeGreaterThan(0);
    expect(fast.formulas.precision_fast).toMatch(/DynamicQuantizeMatMul/);
    // The float32 rows of the first run were not read as fast ones.
    expect(fast.cache.phrases_cached).toBe(0);
    expect(fast.cache.phrases_computed).toBe(48);
    // The gate sampled every segment and batched them as the run does (fast figures depend on a
    // phrase's batch-mates), so its figure is the run's own largest difference, where it says.
    let worst = { d: 0, at: '' };
    for (const lang of Object.keys(exact.mean_activation)) {
      exact.mean_activation[lang].forEach((m, l) => {
        const d = Math.abs(fast.mean_activation[lang][l]! - m!) / Math.abs(m!);
        expect(d, `${lang} layer ${l}`).toBeLessThanOrEqual(g.max_mean_rel_diff * (1 + 1e-5));
        if (d > worst.d) worst = { d, at: `${lang} ${exact.layers[l]}` };
      });
    }
    expect(Math.abs(worst.d - g.max_mean_rel_diff)).toBeLessThanOrEqual(g.max_mean_rel_diff * 1e-5);
    expect(worst.at).toBe(`${g.worst.mean!.language} ${g.worst.mean!.layer}`);
    const html = readFileSync(join(fastOut, 'report.html'), 'utf8');
    expect(html).toContain('Fast precision: fidelity gate');
  }, 600_000);

  it('keeps the int8 weights beside the database: a second database in the same folder reads them and gets the same figures', () => {
    // The first test's fast run wrote the cache; a fresh database recomputes every phrase, now from the cached int8 weights.
    const cacheDir = join(tmp.dir, 'quant-cache');
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    const before = statSync(join(cacheDir, files[0])).mtimeMs;
    const out = join(tmp.dir, 'fast-again');
    const r = runCli(join(tmp.dir, 'other.sqlite'), [...base, '--precision', 'fast', '--out', out]);
    expect(r.stderr, r.stdout).toEqual([]);
    expect(r.code).toBe(0);
    expect(readdirSync(cacheDir)).toEqual(files);
    // Read, not rewritten.
    expect(statSync(join(cacheDir, files[0])).mtimeMs).toBe(before);
    const again = summaryOf(out);
    const first = summaryOf(join(tmp.dir, 'fast'));
    expect(again.cache.phrases_computed).toBe(48);
    expect(again.mean_activation).toEqual(first.mean_activation);
    expect({ ...again.precision_gate, seconds: null }).toEqual({ ...first.precision_gate, seconds: null });
  }, 600_000);

  it('a gate past the user tolerance exits 2 with the figures on one line and writes nothing', () => {
    const out = join(tmp.dir, 'refused');
    const r = runCli(db, [...base, '--precision', 'fast', '--gate-max-mean-diff', '0', '--gate-segments', '3', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBe(1);
    expect(r.stderr[0]).toMatch(/^linguascope: the fast precision failed its fidelity gate on 3 segment\(s\): mean activation differs by [\d.]+ % \(\w+, layer \d+; tolerance 0 %, gateMaxMeanDiff\)/);
    expect(existsSync(out)).toBe(false);
  }, 300_000);

  it('bad precision and gate flags exit 2 with one line, before any work', () => {
    const cases: [string[], RegExp][] = [
      [['--precision', 'half'], /--precision/],
      [['--precision', 'FAST'], /--precision/],
      [['--precision', ''], /--precision/],
      [['--gate-segments', '0'], /gateSegments|gate-segments/],
      [['--gate-segments', '2.5'], /gate-segments/],
      [['--gate-segments', 'many'], /gate-segments/],
      [['--gate-min-overlap', '1.5'], /gateMinTopOverlap|gate-min-overlap/],
      [['--gate-min-overlap', '-0.1'], /gateMinTopOverlap|gate-min-overlap/],
      [['--gate-max-mean-diff', 'abc'], /gate-max-mean-diff/],
      [['--gate-max-mean-diff', 'NaN'], /gate-max-mean-diff/],
      [['--gate-max-gap-diff', '-1'], /gateMaxGapDiff|gate-max-gap-diff/],
      [['--gate-max-gap-diff', 'Infinity'], /gate-max-gap-diff/],
    ];
    for (const [flags, want] of cases) {
      const out = join(tmp.dir, 'bad');
      const r = runCli(db, [...base, ...flags, '--out', out]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr.length, flags.join(' ')).toBe(1);
      expect(r.stderr[0], flags.join(' ')).toMatch(want);
      expect(existsSync(out)).toBe(false);
    }
  }, 300_000);
});
