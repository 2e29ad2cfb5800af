// The disparity analysis as a user runs it, on a tiny random Gemma-2 (byte-level tokenizer) with
// random JumpReLU SAEs calibrated on its own activations: files and summary.json; a second run
// computes nothing; a run killed with SIGKILL mid-extraction resumes and ends with results
// identical to an uninterrupted run; bad input exits 2 and loses no cached row.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeHost } from '../../src/main/engine/runtime-host';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../src/main/io/safetensors';
import { loadTokenizer } from '../../src/main/io/tokenizer';
import { LoadedModel, openModelFolder } from '../../src/main/models/model';
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

  it('--keep-features trims only the cached top-feature lists: every figure and top feature is the same, the kept lists smaller', () => {
    const base = ['analyze', '--model', MODEL, '--saes', SAES, '--languages', LANGS, '--limit', '6', '--bootstrap', '200'];
    const db = join(tmp.dir, 'keep.db');
    const db4 = join(tmp.dir, 'keep4.db');
    expect(cli(db, ...base, '--keep-features', '256', '--out', join(tmp.dir, 'out-all')).code).toBe(0);
    const trimmed = cli(db4, ...base, '--keep-features', '4', '--out', join(tmp.dir, 'out-4'));
    expect(trimmed.stderr).toBe('');
    expect(trimmed.stdout).toContain('4 features kept per phrase and layer');
    const all = JSON.parse(readFileSync(join(tmp.dir, 'out-all', 'summary.json'), 'utf8'));
    const four = JSON.parse(readFileSync(join(tmp.dir, 'out-4', 'summary.json'), 'utf8'));
    expect(four.cache.phrases_computed).toBe(60);
    // The top features too: ranked on exact values whatever the cache kept.
    for (const field of ['mean_activation', 'mean_activation_ci', 'gap_percent', 'gap_percent_ci', 'deficit_vs_en', 'fidelity', 'top_features']) expect(four[field], field).toEqual(all[field]);
    expect(four.settings.keepFeatures).toBe(4);
    expect(four.formulas.top_features).toContain('float16 lists of the 4 strongest features');
    // The kept lists shrink. The candidates' exact values come on top (more of them where the
    // bounds are loose, as with 4 kept) and are counted in bytes_per_phrase.
    const column = (file: string, name: string) => {
      const d = new Database(file, { readonly: true });
      try {
        return (d.prepare(`SELECT sum(coalesce(length(${name}), 0)) AS n FROM sae_cache`).get() as { n: number }).n;
      } finally {
        d.close();
      }
    };
    expect(column(db4, 'summary')).toBeLessThan(column(db, 'summary'));
    const bytes = (d: string, s: { cache: { bytes_per_phrase: number } }) => expect(Math.abs(s.cache.bytes_per_phrase * 60 - ['summary', 'active', 'fidelity', 'exact', 'key'].reduce((t, c) => t + column(d, c), 0))).toBeLessThanOrEqual(30);
    bytes(db, all);
    bytes(db4, four);
    expect(cli(db, ...base, '--keep-features', '0', '--out', join(tmp.dir, 'out-0')).code).toBe(2);
  });

  it('lists exact top features: with 2 features kept per phrase they equal a plain-JavaScript ranking over the full SAE codes', async () => {
    const texts: Record<string, string[]> = {
      // Not UDHR text: the random SAEs' thresholds are quantiles of pre-activations on English UDHR
      // paragraphs, so a token from them sits exactly on a threshold, where float32 and float64 disagree.
      en: ['The river runs past the old mill before it reaches the sea.', 'Every morning the baker opens his shop at six.', 'Children played football in the park until dark.', 'A quiet library is a good place to read and think.', 'The train to the coast was late again today.'],
      es: ['Todos los seres humanos nacen libres e iguales en dignidad y derechos.', 'Todo individuo tiene derecho a la vida, a la libertad y a la seguridad.', 'Nadie estará sometido a esclavitud ni a servidumbre.', 'Todo ser humano tiene derecho al reconocimiento de su personalidad jurídica.', 'Todos son iguales ante la ley.'],
      hi: ['सभी मनुष्य जन्म से स्वतंत्र हैं।', 'प्रत्येक व्यक्ति को जीवन का अधिकार है।', 'कोई भी ग़ुलामी में नहीं रखा जाएगा।', 'हर किसी को क़ानून के सामने व्यक्ति माना जाएगा।', 'क़ानून के सामने सभी समान हैं।'],
      ml: ['എല്ലാ മനുഷ്യരും സ്വതന്ത്രരാണ്.', 'ഓരോരുത്തർക്കും ജീവിക്കാൻ അവകാശമുണ്ട്.', 'ആരെയും അടിമയാക്കാൻ പാടില്ല.', 'നിയമത്തിനു മുന്നിൽ എല്ലാവരും വ്യക്തികളാണ്.', 'നിയമത്തിനു മുന്നിൽ എല്ലാവരും തുല്യരാണ്.'],
    };
    const codes = Object.keys(texts);
    const file = join(tmp.dir, 'exact.tsv');
    writeFileSync(file, 'segment\tlanguage\ttext\n' + codes.flatMap((c) => texts[c].map((t, i) => `s${i}\t${c}\t${t}`)).join('\n') + '\n');
    const db = join(tmp.dir, 'exact.db');
    const args = ['analyze', '--model', MODEL, '--saes', SAES, '--languages', codes.join(','), '--corpus', file, '--bootstrap', '0', '--keep-features', '2', '--top-features', '6'];
    const run = cli(db, ...args, '--out', join(tmp.dir, 'out-exact'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const s = JSON.parse(readFileSync(join(tmp.dir, 'out-exact', 'summary.json'), 'utf8'));
    // Two features kept per row cannot hold the lists: the phrases were run again for the candidates.
    expect(s.cache.phrases_recomputed_for_top_features).toBeGreaterThan(0);
    const again = cli(db, ...args, '--out', join(tmp.dir, 'out-exact-2'));
    expect(again.code).toBe(0);
    const s2 = JSON.parse(readFileSync(join(tmp.dir, 'out-exact-2', 'summary.json'), 'utf8'));
    expect(s2.cache).toMatchObject({ phrases_computed: 0, phrases_recomputed_for_top_features: 0 });
    expect(s2.top_features).toEqual(s.top_features);

    // The reference: the model's residual streams, then the JumpReLU encode, the reductions
    // (BOS excluded) and the ranking in plain JavaScript (float64) over all 256 features.
    const runtime = new RuntimeHost();
    try {
      const folder = openModelFolder(MODEL);
      const tokenizer = loadTokenizer(MODEL);
      const hooks = [0, 1, 2, 3].map((L) => `blocks.${L}.hook_resid_post`);
      const model = await LoadedModel.load(folder, runtime, { hooks, logits: false });
      const streams: Record<string, Float32Array[][]> = {};
      try {
        for (const c of codes) {
          streams[c] = [];
          for (const t of texts[c]) {
            const out = await model.run([tokenizer.encode(t, true)]);
            streams[c].push(hooks.map((h) => out.outputs[h].data));
          }
        }
      } finally {
        await model.release();
      }
      const low = ['hi', 'ml'];
      for (const [L, hook] of hooks.entries()) {
        const header = readSafetensorsHeader(join(SAES, `${hook}.safetensors`));
        const [wEnc, bEnc, threshold] = ['W_enc', 'b_enc', 'threshold'].map((n) => readTensorAsFloat32(header.tensors.get(n)!));
        const [dIn, dSae] = header.tensors.get('W_enc')!.shape;
        /** Mean over the phrase's tokens after BOS of every feature's JumpReLU activation. */
        const means = (x: Float32Array) => {
          const n = x.length / dIn;
          const m = new Float64Array(dSae);
          for (let t = 1; t < n; t++) {
            for (let f = 0; f < dSae; f++) {
              let pre = bEnc[f];
              for (let i = 0; i < dIn; i++) pre += x[t * dIn + i] * wEnc[i * dSae + f];
              if (pre > threshold[f] && pre > 0) m[f] += pre / (n - 1);
            }
          }
          return m;
        };
        const a = Object.fromEntries(codes.map((c) => [c, streams[c].map((perLayer) => means(perLayer[L]))]));
        const nS = texts.en.length;
        const ranked = [...Array(dSae).keys()]
          .filter((f) => a.en.some((m) => m[f] > 0))
          .map((f) => {
            const e = a.en.reduce((sum, m) => sum + m[f], 0) / nS;
            const lo = low.reduce((sum, c) => sum + a[c].reduce((t, m) => t + m[f], 0), 0) / (nS * low.length);
            return { f, e, lo, d: e - lo };
          })
          .sort((p, q) => q.d - p.d || p.f - q.f)
          .slice(0, 6);
        const listed = s.top_features.filter((t: { layer: number }) => t.layer === L);
        expect(listed.map((t: { feature: number }) => t.feature), hook).toEqual(ranked.map((r) => r.f));
        const close = (got: number, want: number, what: string) => expect(Math.abs(got - want), `${hook} ${what}: ${got} vs ${want}`).toBeLessThan(2e-5 * Math.max(1, Math.abs(want)));
        listed.forEach((t: { feature: number; en: number; medium_low: number; phrases: { segment: string; values: Record<string, number> }[] }, i: number) => {
          // The drill-down: every language's value on the feature's best English segments, 0 only where it is 0.
          for (const ph of t.phrases) {
            const seg = Number(ph.segment.slice(1));
            for (const c of codes) close(ph.values[c], a[c][seg][t.feature], `feature ${t.feature} ${c} ${ph.segment}`);
          }
          close(t.en, ranked[i].e, `feature ${t.feature} en`);
          close(t.medium_low, ranked[i].lo, `feature ${t.feature} medium_low`);
        });
      }
    } finally {
      await runtime.close();
    }
  });

  it('a cached-then-extended run gives the figures of a fresh run bit for bit', () => {
    const db = join(tmp.dir, 'extend.db');
    const args = ['analyze', '--model', MODEL, '--saes', SAES, '--bootstrap', '100', '--keep-features', '8'];
    // First fewer segments (and the cache filled by other analyses), then more: most rows are
    // cached, the rest computed in other batches than a fresh run's.
    const langs = ['--languages', 'en,es,hi,ml'];
    expect(cli(db, ...args, ...langs, '--limit', '2', '--out', join(tmp.dir, 'out-first')).code).toBe(0);
    const extended = cli(db, ...args, ...langs, '--limit', '6', '--out', join(tmp.dir, 'out-extended'));
    expect(extended.code).toBe(0);
    const fresh = cli(join(tmp.dir, 'extend-fresh.db'), ...args, ...langs, '--limit', '6', '--out', join(tmp.dir, 'out-fresh'));
    expect(fresh.code).toBe(0);
    const s = JSON.parse(readFileSync(join(tmp.dir, 'out-extended', 'summary.json'), 'utf8'));
    expect(s.cache.phrases_cached).toBe(8);
    expect(s.cache.phrases_computed).toBe(16);
    // Every figure, unrounded in summary.json to 6 significant digits, identical; so are the files.
    expect(figures(join(tmp.dir, 'out-extended'))).toEqual(figures(join(tmp.dir, 'out-fresh')));
    for (const f of ['mean_activation.csv', 'gap_percent.csv', 'fidelity.csv', 'top_features.csv']) {
      expect(readFileSync(join(tmp.dir, 'out-extended', f), 'utf8'), f).toBe(readFileSync(join(tmp.dir, 'out-fresh', f), 'utf8'));
    }
  });

  it('says why there is no gap: in the output, summary.json and report.html', () => {
    const db = join(tmp.dir, 'gap.db');
    const base = ['analyze', '--model', MODEL, '--saes', SAES, '--limit', '2', '--bootstrap', '0'];
    const cases: [string, RegExp][] = [
      ['en,hi,ml', /no high-resource language was chosen/],
      ['en,es,zh', /no medium\/low-resource language was chosen/],
      ['en', /no high-resource and no medium\/low-resource language was chosen/],
    ];
    for (const [languages, why] of cases) {
      const out = join(tmp.dir, `out-gap-${languages}`);
      const run = cli(db, ...base, '--languages', languages, '--out', out);
      expect(run.code, languages).toBe(0);
      const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(s.gap_percent, languages).toEqual([null, null, null, null]);
      expect(s.gap_reason, languages).toMatch(why);
      expect(run.stdout, languages).toContain(`n/a: ${s.gap_reason}`);
      expect(readFileSync(join(out, 'report.html'), 'utf8'), languages).toContain(s.gap_reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
    }
    const both = cli(db, ...base, '--languages', 'en,es,hi', '--out', join(tmp.dir, 'out-gap-both'));
    expect(both.stdout).not.toContain('n/a:');
    expect(JSON.parse(readFileSync(join(tmp.dir, 'out-gap-both', 'summary.json'), 'utf8')).gap_reason).toBeNull();
  });

  it('`analyze --json | head -c 10` ends quietly: 100 KB into a closed pipe is no EPIPE stack trace', () => {
    const db = join(tmp.dir, 'pipe.db');
    const args = ['analyze', '--model', MODEL, '--saes', SAES, '--languages', LANGS, '--limit', '3', '--bootstrap', '0', '--top-features', '50', '--out', join(tmp.dir, 'out-pipe'), '--json'];
    const full = cli(db, ...args);
    expect(full.stdout.length).toBeGreaterThan(128 * 1024); // past any pipe buffer
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const run = spawnSync('sh', ['-c', `${quoted} | head -c 10`], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: db } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(full.stdout.slice(0, 10));
    expect(run.stderr.replace(/^linguascope: building the app.*\n/m, '')).toBe('');
  });

  it('takes language codes in any spelling and gives the figures of the canonical ones', () => {
    const db = join(tmp.dir, 'spelling.db');
    const base = ['analyze', '--model', MODEL, '--saes', SAES, '--limit', '2', '--bootstrap', '0'];
    const canonical = cli(db, ...base, '--languages', 'en,es,hi', '--out', join(tmp.dir, 'out-canonical'));
    expect(canonical.code).toBe(0);
    const spelled = cli(db, ...base, '--languages', 'EN, ES ,Hi,hi', '--out', join(tmp.dir, 'out-spelled'));
    expect(spelled.code, spelled.stderr).toBe(0);
    expect(figures(join(tmp.dir, 'out-spelled'))).toEqual(figures(join(tmp.dir, 'out-canonical')));
    const unknown = cli(db, ...base, '--languages', 'en,xx,YY', '--out', join(tmp.dir, 'out-unknown'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"xx".*"YY"|xx.*YY/);
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

  it('resumes after SIGKILL and ends with the figures of an uninterrupted run', { timeout: 400_000 }, async () => {
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
