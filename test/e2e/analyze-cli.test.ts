// The disparity analysis as a user runs it, on a tiny random Gemma-2 (byte-level tokenizer) with
// random JumpReLU SAEs calibrated on its own activations: files and summary.json; a second run
// computes nothing; a run killed with SIGKILL mid-extraction resumes and ends with results
// identical to an uninterrupted run; bad input exits 2 and loses no cached row.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader } from '../../src/main/io/safetensors';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const tmp = tempDir();
const MODEL = join(tmp.dir, 'model');
const SAES = join(tmp.dir, 'saes');
const LANGS = 'en,zh,ru,es,it,id,ca,mr,ml,hi';

function cli(db: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: db }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const rows = (db: string) => {
  if (!existsSync(db)) return 0;
  const d = new Database(db, { readonly: true });
  try {
    // The child may have created the file but not yet its tables.
    const table = d.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sae_cache'").get();
    return table ? (d.prepare('SELECT count(*) AS n FROM sae_cache').get() as { n: number }).n : 0;
  } finally {
    d.close();
  }
};

/** A copy of the random SAEs whose layer-1 SAE has `value` in the first element of `tensor`. */
function poisonedSaes(name: string, tensor: string, value: number): string {
  const dir = join(tmp.dir, name);
  cpSync(SAES, dir, { recursive: true });
  const file = join(dir, 'blocks.1.hook_resid_post.safetensors');
  const entry = readSafetensorsHeader(file).tensors.get(tensor)!;
  const bytes = readFileSync(file);
  bytes.writeFloatLE(value, entry.offset);
  writeFileSync(file, bytes);
  return dir;
}

/** summary.json without what legitimately differs between runs (timing, cache counters). */
function figures(dir: string) {
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  delete s.cache;
  return s;
}

describe('linguascope analyze', () => {
  beforeAll(() => {
    const db = join(tmp.dir, 'setup.db');
    expect(cli(db, 'make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', MODEL, '--seed', '3').code).toBe(0);
    const made = cli(db, 'make-random-saes', '--model', MODEL, '--width', '256', '--out', SAES, '--seed', '5');
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/wrote 4 jumprelu SAEs of width 256/);
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('make-random-saes is deterministic for a seed and its L0 holds on text it was not calibrated on', () => {
    const again = join(tmp.dir, 'saes-again');
    const made = cli(join(tmp.dir, 'setup.db'), 'make-random-saes', '--model', MODEL, '--width', '256', '--out', again, '--seed', '5');
    expect(made.code).toBe(0);
    const other = join(tmp.dir, 'saes-seed6');
    expect(cli(join(tmp.dir, 'setup.db'), 'make-random-saes', '--model', MODEL, '--width', '256', '--out', other, '--seed', '6').code).toBe(0);
    for (const L of [0, 1, 2, 3]) {
      const name = `blocks.${L}.hook_resid_post.safetensors`;
      expect(readFileSync(join(again, name)).equals(readFileSync(join(SAES, name))), name).toBe(true);
      expect(readFileSync(join(other, name)).equals(readFileSync(join(SAES, name))), name).toBe(false);
    }
    // Calibrated to an average L0 of 256 / 64 = 4 on the first 64 tokens of 12 English UDHR
    // paragraphs: Hindi, and English beyond those, were not in the sample.
    const out = join(tmp.dir, 'out-l0');
    expect(cli(join(tmp.dir, 'l0.db'), 'analyze', '--model', MODEL, '--saes', SAES, '--languages', 'en,hi', '--limit', '30', '--bootstrap', '0', '--out', out).code).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    for (const l0 of s.fidelity.en.l0) {
      expect(l0).toBeGreaterThan(2);
      expect(l0).toBeLessThan(8);
    }
    // Thresholds set on English are not a language-neutral sparsity: Hindi runs denser, as
    // trained SAEs often do on under-represented scripts (the fidelity table reports it).
    for (const l0 of s.fidelity.hi.l0) expect(l0).toBeGreaterThan(2);
  });

  it('writes summary.json, report.html, CSVs and charts; a second run computes nothing', () => {
    const db = join(tmp.dir, 'a.db');
    const out = join(tmp.dir, 'out-a');
    const run = cli(db, 'analyze', '--model', MODEL, '--saes', SAES, '--languages', LANGS, '--limit', '6', '--bootstrap', '200', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`report: ${join(out, 'report.html')}`);
    for (const f of ['summary.json', 'report.html', 'mean_activation.csv', 'gap_percent.csv', 'fidelity.csv', 'mean_activation.svg', 'mean_activation.png', 'heatmap.svg']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.languages.map((l: { code: string }) => l.code)).toEqual(LANGS.split(','));
    expect(s.languages.find((l: { code: string }) => l.code === 'ml').tier).toBe('medium-low');
    expect(s.layers).toEqual([0, 1, 2, 3]);
    expect(s.segments).toBe(6);
    for (const code of LANGS.split(',')) expect(s.mean_activation[code]).toHaveLength(4);
    expect(s.gap_percent).toHaveLength(4);
    expect(s.settings).toMatchObject({ reduction: 'mean', features: 'english-active', includeBos: false, bootstrap: 200 });
    expect(s.formulas.gap_percent).toContain('M_high(l) - M_medium-low(l)');
    expect(s.model.architecture).toBe('Gemma2ForCausalLM');
    expect(s.saes).toHaveLength(4);
    expect(s.cache.phrases_computed).toBe(60);

    const again = cli(db, 'analyze', '--model', MODEL, '--saes', SAES, '--languages', LANGS, '--limit', '6', '--bootstrap', '200', '--out', join(tmp.dir, 'out-a2'));
    expect(again.code).toBe(0);
    const s2 = JSON.parse(readFileSync(join(tmp.dir, 'out-a2', 'summary.json'), 'utf8'));
    expect(s2.cache.phrases_computed).toBe(0);
    expect(s2.cache.phrases_cached).toBe(60);
    expect(figures(join(tmp.dir, 'out-a2'))).toEqual(figures(out));
  });

  it('--keep-features trims only the cached top-feature lists: every figure is the same, the cache smaller', () => {
    const base = ['analyze', '--model', MODEL, '--saes', SAES, '--languages', LANGS, '--limit', '6', '--bootstrap', '200'];
    const db = join(tmp.dir, 'keep.db');
    expect(cli(db, ...base, '--keep-features', '256', '--out', join(tmp.dir, 'out-all')).code).toBe(0);
    const trimmed = cli(db, ...base, '--keep-features', '4', '--out', join(tmp.dir, 'out-4'));
    expect(trimmed.stderr).toBe('');
    expect(trimmed.stdout).toContain('4 features kept per phrase and layer');
    const all = JSON.parse(readFileSync(join(tmp.dir, 'out-all', 'summary.json'), 'utf8'));
    const four = JSON.parse(readFileSync(join(tmp.dir, 'out-4', 'summary.json'), 'utf8'));
    expect(four.cache.phrases_computed).toBe(60);
    for (const field of ['mean_activation', 'mean_activation_ci', 'gap_percent', 'gap_percent_ci', 'deficit_vs_en', 'fidelity']) expect(four[field], field).toEqual(all[field]);
    expect(four.settings.keepFeatures).toBe(4);
    expect(four.formulas.top_features).toContain('from the 4 strongest features');
    expect(four.cache.bytes_per_phrase).toBeLessThan(all.cache.bytes_per_phrase);
    expect(cli(db, ...base, '--keep-features', '0', '--out', join(tmp.dir, 'out-0')).code).toBe(2);
  });

  it('reads a corpus file: other known languages allowed, segments without every chosen language listed', () => {
    const f = join(tmp.dir, 'corpus.tsv');
    writeFileSync(
      f,
      'segment\tlanguage\ttext\n' +
        'a\ten\tAll human beings are born free.\na\thi\tसभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है।\na\tfr\tTous les êtres humains naissent libres.\n' +
        'b\ten\tEveryone has the right to life.\nb\thi\tप्रत्येक व्यक्ति को जीवन का अधिकार है।\n' +
        'c\ten\tNo one shall be held in slavery.\n',
    );
    const out = join(tmp.dir, 'out-file');
    const run = cli(join(tmp.dir, 'file.db'), 'analyze', '--model', MODEL, '--saes', SAES, '--languages', 'en,hi', '--corpus', f, '--bootstrap', '50', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('left out: 1 corpus segments without a text in every chosen language (c)');
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.segments).toBe(2);
    expect(s.corpus).toMatchObject({ segments: 2, incomplete: ['c'], skipped: [] });
    expect(s.corpus.tokens.hi).toBeGreaterThan(s.corpus.tokens.en);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Left out (no text in every chosen language): 1 segments: c.');
  });

  it('resumes after SIGKILL and ends with the figures of an uninterrupted run', async () => {
    const args = ['analyze', '--model', MODEL, '--saes', SAES, '--languages', LANGS, '--limit', '30', '--bootstrap', '100'];
    const clean = cli(join(tmp.dir, 'clean.db'), ...args, '--out', join(tmp.dir, 'out-clean'));
    expect(clean.code).toBe(0);

    const db = join(tmp.dir, 'killed.db');
    const child = spawn(process.execPath, [BIN, ...args, '--out', join(tmp.dir, 'out-killed')], { env: { ...process.env, LINGUASCOPE_DB: db }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Kill as soon as some (not all) batches are committed.
    const deadline = Date.now() + 120_000;
    while (rows(db) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const partial = rows(db);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(300 * 4);
    expect(existsSync(join(tmp.dir, 'out-killed', 'summary.json'))).toBe(false);

    const resumed = cli(db, ...args, '--out', join(tmp.dir, 'out-killed'));
    expect(resumed.code).toBe(0);
    const s = JSON.parse(readFileSync(join(tmp.dir, 'out-killed', 'summary.json'), 'utf8'));
    expect(s.cache.phrases_cached).toBe(partial / 4);
    expect(s.cache.phrases_computed).toBe(300 - partial / 4);
    expect(figures(join(tmp.dir, 'out-killed'))).toEqual(figures(join(tmp.dir, 'out-clean')));
  });

  describe('bad input exits 2 with one line and keeps the cache intact', () => {
    const db = join(tmp.dir, 'a.db');
    const cases: [string, () => string[], RegExp][] = [
      ['an unknown language', () => ['--languages', 'en,xx'], /xx/],
      ['SAEs for another model size', () => {
        return ['--saes', join(ROOT, 'test', 'fixtures', 'saes', 'saelens', 'standard')];
      }, /size 64 \(d_in\), the model's residual stream has 96/],
      ['NaN in an SAE threshold', () => ['--saes', poisonedSaes('nan-threshold', 'threshold', NaN)], /blocks\.1\.hook_resid_post produced \d+ NaN or infinite values/],
      ['Inf in an SAE decoder', () => ['--saes', poisonedSaes('inf-decoder', 'W_dec', Infinity)], /blocks\.1\.hook_resid_post produced \d+ NaN or infinite values/],
      ['a corpus file with a bad row', () => {
        const f = join(tmp.dir, 'bad.tsv');
        writeFileSync(f, 'segment\tlanguage\ttext\ns1\ten\tHello\ns1\tzh\n');
        return ['--corpus', f, '--languages', 'en,zh'];
      }, /bad\.tsv row 3: expected 3 tab-separated columns, found 2/],
      ['a corpus file with a mistyped language code', () => {
        const f = join(tmp.dir, 'typo.tsv');
        writeFileSync(f, 'segment\tlanguage\ttext\ns1\ten\tHello\ns1\thn\tNamaste\n');
        return ['--corpus', f, '--languages', 'en,hi'];
      }, /typo\.tsv row 3: unknown language code "hn"/],
      ['a corpus file that is not UTF-8', () => {
        const f = join(tmp.dir, 'latin1.tsv');
        writeFileSync(f, Buffer.from([...Buffer.from('segment\tlanguage\ttext\ns1\ten\tcaf'), 0xe9, 0x0a]));
        return ['--corpus', f, '--languages', 'en'];
      }, /latin1\.tsv is not valid UTF-8/],
      ['an empty phrase', () => {
        const f = join(tmp.dir, 'empty.tsv');
        writeFileSync(f, 'segment\tlanguage\ttext\ns1\ten\t \n');
        return ['--corpus', f, '--languages', 'en'];
      }, /empty\.tsv row 2: the text is empty/],
      ['a phrase longer than the context', () => {
        const f = join(tmp.dir, 'long.tsv');
        writeFileSync(f, `segment\tlanguage\ttext\ns1\ten\t${'a'.repeat(4200)}\n`);
        return ['--corpus', f, '--languages', 'en'];
      }, /segment "s1" in en has 4201 tokens; the model's context is 4096/],
    ];
    it.each(cases)('%s', (_, extra, pattern) => {
      const before = rows(db);
      const base: Record<string, string> = { '--model': MODEL, '--saes': SAES, '--languages': LANGS, '--limit': '2', '--out': join(tmp.dir, 'never') };
      const e = extra();
      for (let i = 0; i < e.length; i += 2) base[e[i]] = e[i + 1];
      const run = cli(db, 'analyze', ...Object.entries(base).flat());
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
      expect(rows(db)).toBe(before);
      expect(existsSync(join(tmp.dir, 'never', 'summary.json'))).toBe(false);
    });
  });
});
