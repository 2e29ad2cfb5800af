// The README is the front door: every `npx linguascope …` line it prints is run here exactly as
// printed (through a shell, from the clone's folder, with only LINGUASCOPE_DB set, which the
// README names), in the README's order, and what each prints and writes is checked. A README line
// without a check below fails the test, so a new example cannot go untested.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'linguascope-examples');
const tmp = tempDir();

/** Every shell line of the README's ```sh blocks that runs `npx linguascope`, `\` continuations joined, comments cut. */
function readmeCliLines(markdown: string): string[] {
  const lines: string[] = [];
  let inShell = false;
  let pending = '';
  for (const raw of markdown.split('\n')) {
    if (/^```/.test(raw)) {
      inShell = !inShell && /^```sh\s*$/.test(raw);
      continue;
    }
    if (!inShell) continue;
    const line = pending + raw.replace(/\s+#(?=[^"]*$).*$/, '').trim();
    if (line.endsWith('\\')) {
      pending = line.slice(0, -1).trim() + ' ';
      continue;
    }
    pending = '';
    if (line.startsWith('npx linguascope')) lines.push(line);
  }
  return lines;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
const file = (...parts: string[]) => join(EXAMPLES, ...parts);
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** What each README line must print and write; keyed by the line as printed. */
const CHECKS: Record<string, (run: Run) => void> = {
  'npx linguascope --help': ({ stdout }) => {
    for (const command of ['demo', 'analyze', 'activations', 'finetune', 'eval', 'make-random-model', 'make-random-saes', 'fertility', 'languages', 'corpus', 'system', 'model', 'serve']) {
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  },
  'npx linguascope system': ({ stdout }) => {
    expect(stdout).toMatch(/logical cores/);
    expect(stdout).toMatch(/^yes cpu/m);
  },
  'npx linguascope languages list': ({ stdout }) => {
    expect(stdout).toMatch(/^en\s+reference\s+Latin\s+English$/m);
    expect(stdout).toMatch(/^ml\s+medium-low\s+Malayalam/m);
  },
  'npx linguascope corpus --languages en,hi,ml': ({ stdout }) => {
    expect(stdout).toMatch(/UDHR .*: \d+ aligned segments for en, hi, ml/);
  },
  'npx linguascope fertility --languages en,hi,ml --out linguascope-examples/fertility': ({ stdout }) => {
    expect(stdout).toMatch(/^ml\s+medium-low\s+[\d.]+\s+[\d.]+\s+[\d.]+$/m);
    expect(existsSync(file('fertility', 'fertility.csv'))).toBe(true);
  },
  'npx linguascope make-random-model --arch gemma2 --preset tiny --dtype f32 --out linguascope-examples/tiny-gemma2': ({ stdout }) => {
    expect(stdout).toMatch(/Gemma2ForCausalLM: \d+ layers/);
    expect(existsSync(file('tiny-gemma2', 'config.json'))).toBe(true);
  },
  'npx linguascope model --model linguascope-examples/tiny-gemma2': ({ stdout }) => {
    expect(stdout).toMatch(/^Gemma2ForCausalLM: \d+ layers, d_model \d+/m);
    expect(stdout).toMatch(/stored F32 in 1 file/);
  },
  'npx linguascope activations --model linguascope-examples/tiny-gemma2 --text "All human beings are born free" --layers all --out linguascope-examples/activations.safetensors': ({ stdout }) => {
    const tokens = Number(stdout.match(/^(\d+) tokens through Gemma2ForCausalLM \((\d+) layers\)/m)?.[1]);
    expect(tokens).toBeGreaterThan(3);
    expect(stdout).toMatch(/blocks\.0\.hook_resid_post \[\d+, \d+\]/);
    const bytes = readFileSync(file('activations.safetensors'));
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
    expect(header['blocks.0.hook_resid_post'].shape[0]).toBe(tokens);
  },
  'npx linguascope make-random-saes --model linguascope-examples/tiny-gemma2 --width 128 --out linguascope-examples/tiny-saes': ({ stdout }) => {
    expect(stdout).toMatch(/wrote \d+ jumprelu SAEs of width 128/);
    expect(stdout).toMatch(/average L0 on the calibration sample: L0 /);
  },
  'npx linguascope analyze --model linguascope-examples/tiny-gemma2 --saes linguascope-examples/tiny-saes --languages en,zh,hi,ml --limit 6 --out linguascope-examples/tiny-report': ({ stdout }) => {
    expect(stdout).toMatch(/4 languages, 6 aligned segments/);
    const summary = json(file('tiny-report', 'summary.json'));
    expect(summary.segments).toBe(6);
    expect(summary.languages.map((l: { code: string }) => l.code)).toEqual(['en', 'zh', 'hi', 'ml']);
    expect(existsSync(file('tiny-report', 'report.html'))).toBe(true);
  },
  'npx linguascope analyze --model resources/demo/model --saes resources/demo/saes --languages en,es,hi,ml --limit 10 --bootstrap 200 --out linguascope-examples/demo-report': ({ stdout }) => {
    expect(stdout).toMatch(/settings: reduction mean/);
    const summary = json(file('demo-report', 'summary.json'));
    expect(summary.layers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(summary.settings.reduction).toBe('mean');
    // The gap printed is the formula's: 100 (M_high - M_medium-low) / M_high with es the high tier, hi and ml the medium/low.
    const m = summary.mean_activation;
    summary.layers.forEach((_: number, i: number) => {
      const expected = (100 * (m.es[i] - (m.hi[i] + m.ml[i]) / 2)) / m.es[i];
      expect(summary.gap_percent[i]).toBeCloseTo(expected, 3);
    });
    // The demo's tiers get unequal data: in the early layers Spanish (high) fires above Hindi and Malayalam.
    for (let i = 0; i < 3; i++) expect(m.es[i]).toBeGreaterThan(Math.max(m.hi[i], m.ml[i]));
  },
  'npx linguascope demo --out linguascope-examples/demo --json': ({ stdout }) => {
    const result = JSON.parse(stdout);
    expect(result.languages).toEqual(['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi']);
    expect(result.targets).toEqual(['id', 'ca', 'mr', 'ml', 'hi']);
    expect(result.stages.map((s: { stage: string }) => s.stage)).toEqual(['measure', 'fine-tune', 'task', 'evaluate', 'correlate']);
    expect(result.analysis.summary.settings.reduction).toBe('mean');
    expect(Object.keys(result.finetune.report.gain_percent).sort()).toEqual(['ca', 'hi', 'id', 'ml', 'mr']);
    expect(result.evaluation.results).toHaveLength(10);
    expect(result.correlation.base.per_layer).toHaveLength(6);
    for (const f of ['report.html', 'study.json', 'figures.csv', 'analysis/summary.json', 'finetune/adapter/adapter_config.json', 'eval/results.json']) expect(existsSync(file('demo', ...f.split('/'))), f).toBe(true);
  },
  'npx linguascope finetune --model resources/demo/model --saes resources/demo/saes --languages en,hi --max-tokens 256 --steps 20 --batch 4 --eval-every 10 --direction target-only --loss-reduction max --out linguascope-examples/finetune --merged': ({ stdout, stderr }) => {
    // Not a terminal: one line per logged step and evaluation on stderr.
    for (let step = 1; step <= 20; step++) expect(stderr).toMatch(new RegExp(`^step ${step}/20 loss [\\d.]+ `, 'm'));
    expect(stderr).toMatch(/^eval step 10: held-out loss [\d.]+; gain hi -?[\d.]+ %; English retention [\d.]+ %/m);
    expect(stdout).toMatch(/^fine-tune completed: 20 steps done$/m);
    expect(stdout).toMatch(/^  activation gain hi: -?[\d.]+ % \[-?[\d.]+, -?[\d.]+\]$/m);
    const result = json(file('finetune', 'report', 'result.json'));
    expect(result.steps).toBe(20);
    expect(result.config.settings.loss.direction).toBe('target-only');
    expect(readFileSync(file('finetune', 'steps.jsonl'), 'utf8').trim().split('\n')).toHaveLength(22);
    const adapterConfig = json(file('finetune', 'adapter', 'adapter_config.json'));
    expect(adapterConfig).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 16, lora_alpha: 32, layers_to_transform: [0, 1, 2, 3, 4] });
    expect(json(file('finetune', 'merged', 'config.json')).model_type).toBe('gemma2');
    expect(stdout).toMatch(/^merged model: .*linguascope-examples\/finetune\/merged$/m);
  },
  'npx linguascope analyze --model resources/demo/model --saes resources/demo/saes --languages en,hi --limit 10 --reduction max --adapter linguascope-examples/finetune/adapter --out linguascope-examples/finetune-analysis': () => {
    const summary = json(file('finetune-analysis', 'summary.json'));
    expect(summary.adapter.rank).toBe(16);
    expect(summary.adapter.modules).toBe(35);
  },
  'npx linguascope eval --model resources/demo/model --data test/fixtures/eval/data/alexandrainst/m_arc --adapter linguascope-examples/finetune/adapter --out linguascope-examples/eval': ({ stdout }) => {
    expect(stdout).toMatch(/^lm-eval-okapi: 12 items/m);
    expect(stdout).toMatch(/^arc\tml\t6\t/m);
    expect(stdout).toMatch(/^arc\tes\t6\t/m);
    const result = json(file('eval', 'results.json'));
    expect(result.results.map((r: { language: string }) => r.language).sort()).toEqual(['es', 'ml']);
    expect(result.results[0].difference.acc.ci).toHaveLength(2);
    const items = readFileSync(file('eval', 'items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(items).toHaveLength(12);
    expect(items[0]).toMatchObject({ task: 'arc', doc_id: 0 });
    expect(items[0].after.loglikelihoods).toHaveLength(items[0].loglikelihoods.length);
  },
  'npx linguascope dataset import test/fixtures/parallel/flores_plus --split dev --languages en,hi,ml --out linguascope-examples/flores': ({ stdout }) => {
    expect(stdout).toMatch(/^flores-parquet \(dev\): 3 of 3 segments kept, in en, hi, ml$/m);
    expect(stdout).toMatch(/^not imported: cmn_Hans \(3 rows\): zh was not chosen$/m);
    const corpus = readFileSync(file('flores', 'corpus.tsv'), 'utf8').trim().split('\n');
    expect(corpus).toHaveLength(10);
    expect(json(file('flores', 'import.json')).languages.map((l: { kept: number }) => l.kept)).toEqual([3, 3, 3]);
  },
  "npx linguascope translate --model test/fixtures/marian/tiny-en-mul-bin --in test/fixtures/translate/texts.txt --target-token '>>hin<<' --beams 4 --references test/fixtures/translate/references.txt --out linguascope-examples/translations.jsonl": ({ stdout }) => {
    const expected = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'translate', 'expected.json'), 'utf8')).cases.find((c: { target_token: string | null; beams: number }) => c.target_token === '>>hin<<' && c.beams === 4);
    const lines = readFileSync(file('translations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l: { ids: number[] }) => l.ids)).toEqual(expected.rows.map((r: { ids: number[] }) => r.ids));
    expect(stdout).toMatch(/^6 texts \(\d from the cache\) with .*tiny-en-mul-bin: beam 4, max length 24, >>hin<</m);
    expect(stdout).toMatch(/^BLEU \d+\.\d\d .*chrF\+\+ \d+\.\d\d/m);
  },
  "npx linguascope dataset translate linguascope-examples/flores/corpus.tsv --target 'zh=test/fixtures/marian/tiny-en-mul-bin@>>cmn_Hans<<' --out linguascope-examples/flores-zh": ({ stdout }) => {
    expect(stdout).toMatch(/^3 of 3 segments in en, ml, hi, zh$/m);
    const rows = readFileSync(file('flores-zh', 'corpus.tsv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(1 + 3 * 4);
    expect(json(file('flores-zh', 'translation.json')).languages[0].settings.targetToken).toBe('>>cmn_Hans<<');
  },
};

describe('README: every npx linguascope line, as printed', () => {
  const lines = readmeCliLines(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  beforeAll(() => rmSync(EXAMPLES, { recursive: true, force: true }));
  afterAll(() => {
    rmSync(EXAMPLES, { recursive: true, force: true });
    tmp.cleanup();
  });

  it('finds the README lines, and each has a check', () => {
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.filter((l) => !CHECKS[l])).toEqual([]);
  });

  it.each(lines.map((l) => [l]))('%s', (line) => {
    const run = spawnSync('sh', ['-c', line], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LINGUASCOPE_DB: join(tmp.dir, 'readme.db') },
      timeout: 300_000,
      // `demo --json` prints the whole study (about 1.5 MB): past spawnSync's 1 MiB default.
      maxBuffer: 64 * 2 ** 20,
    });
    expect(run.status, run.stderr).toBe(0);
    CHECKS[line]!({ code: run.status, stdout: run.stdout, stderr: run.stderr });
  }, 300_000);
});
