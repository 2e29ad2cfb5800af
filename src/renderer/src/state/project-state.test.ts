// The wizard <-> project state mapping: a round trip keeps every choice, an unknown step opens the
// first one, and what was read from disk is never carried over.
import { describe, expect, it } from 'vitest';
import { projectStateInput, storedProjectState } from '../../../shared/contract';
import type { AnalysisRunRecord } from '../../../shared/dto';
import { choicesOf, projectStateOf, requestOfRun, summarySha256, wizardOf } from './project-state';
import { INITIAL_EVALUATE, INITIAL_FINETUNE, INITIAL_PHRASES, INITIAL_WIZARD, type WizardState } from './wizard';

const chosen: WizardState = {
  ...INITIAL_WIZARD,
  step: 'saes',
  selected: ['en', 'hi'],
  modelPath: '/m',
  saesPath: '/s',
  saeChoice: { 0: '/s/a', 2: null },
  runSettings: { ...INITIAL_WIZARD.runSettings, reduction: 'max', limit: 5 },
  runId: 7,
};

describe('project state', () => {
  it('round-trips the choices and is valid input for projects.save', () => {
    const state = projectStateOf(chosen, { en: 'reference', hi: 'medium-low', ml: 'medium-low' });
    expect(state.tiers).toEqual({ en: 'reference', hi: 'medium-low' });
    expect(state.saeChoice).toEqual({ '0': '/s/a', '2': null });
    expect(projectStateInput.safeParse(state).success).toBe(true);
    const back = { ...INITIAL_WIZARD, model: { path: '/old' } as never, summary: {} as never, ...wizardOf(state) };
    expect(choicesOf(back)).toEqual(choicesOf(chosen));
    expect(back.model).toBeNull();
    expect(back.summary).toBeNull();
    expect(back.modelChosenByUser).toBe(true);
  });

  it('keeps the Fine-tune step and the analysis adapter, and leaves them out while unused', () => {
    const plain = projectStateOf(chosen, {});
    expect('finetune' in plain).toBe(false);
    expect('adapterPath' in plain).toBe(false);
    const tuned: WizardState = {
      ...chosen,
      step: 'finetune',
      adapterPath: '/runs/a/adapter',
      finetune: { outDir: '/runs/a', targets: ['hi'], limit: 8, settings: { lora: { rank: 4 }, steps: 6, monitor: { evalEvery: 3, watchdog: { threshold: 5 } } }, jobId: 'j-1', run: { corpus: 'udhr', limit: 8 } },
    };
    const state = projectStateOf(tuned, {});
    expect(projectStateInput.safeParse(state).success).toBe(true);
    const back = { ...INITIAL_WIZARD, ...wizardOf(state) };
    expect(choicesOf(back)).toEqual(choicesOf(tuned));
    expect(back.step).toBe('finetune');
    // A project saved before these fields existed opens with none.
    const old = wizardOf(plain);
    expect(old.adapterPath).toBe('');
    expect(old.finetune).toBe(INITIAL_FINETUNE);
  });

  it('refuses a malformed fine-tune state on save, and drops it (keeping the project) when read back', () => {
    const base = projectStateOf(chosen, {});
    const good = { outDir: '/r', targets: ['hi'], limit: null, settings: {}, jobId: null, run: null };
    expect(projectStateInput.safeParse({ ...base, finetune: good }).success).toBe(true);
    // A misspelt key is an error when saved; read back (a newer version's key) it is dropped.
    expect(projectStateInput.safeParse({ ...base, finetune: { ...good, outDirr: '/r' } }).success).toBe(false);
    expect(storedProjectState.safeParse({ ...base, finetune: { ...good, outDirr: '/r' } }).data?.finetune).toEqual(good);
    const bad = [
      { ...good, settings: { lora: { rank: 0 } } },
      { ...good, settings: { lora: { rnak: 4 } } },
      { ...good, targets: ['not a code!'] },
      { ...good, limit: 1 },
      { ...good, jobId: '' },
      { ...good, run: { corpus: 'udhr', limit: 8, extra: 1 } },
      'a string',
    ];
    for (const finetune of bad) {
      expect(projectStateInput.safeParse({ ...base, finetune }).success, JSON.stringify(finetune)).toBe(false);
      const read = storedProjectState.safeParse({ ...base, finetune });
      expect(read.success).toBe(true);
      expect(read.data?.finetune).toBeUndefined();
      expect(read.data?.modelPath).toBe('/m');
    }
    expect(projectStateInput.safeParse({ ...base, adapterPath: 3 }).success).toBe(false);
    expect(storedProjectState.safeParse({ ...base, adapterPath: 3 }).data?.adapterPath).toBeUndefined();
  });

  it('keeps the Evaluate step (left out while unused), strict on save, dropped when damaged on read', () => {
    const base = projectStateOf(chosen, {});
    expect('evaluate' in base).toBe(false);
    const evaluate = { ...INITIAL_EVALUATE, data: '/d', task: 'mc' as const, languages: ['hi'], limit: 5, fewshot: 1, adapter: 'path' as const, adapterPath: '/a', outDir: '/o', jobId: 'j-2' };
    const state = projectStateOf({ ...chosen, step: 'evaluate', evaluate }, {});
    expect(projectStateInput.safeParse(state).success).toBe(true);
    const back = { ...INITIAL_WIZARD, ...wizardOf(state) };
    expect(back.evaluate).toEqual(evaluate);
    expect(back.step).toBe('evaluate');
    // A stored run to show (the demo study's evaluation) round-trips; null and absent are allowed.
    for (const runId of [12, null]) {
      const withRun = projectStateOf({ ...chosen, evaluate: { ...evaluate, runId } }, {});
      expect(projectStateInput.safeParse(withRun).success).toBe(true);
      expect({ ...INITIAL_WIZARD, ...wizardOf(withRun) }.evaluate.runId).toBe(runId);
    }
    expect(wizardOf(base).evaluate).toBe(INITIAL_EVALUATE);
    // Each field's classes of bad value: an unknown task/preset/adapter kind, a bad
    // language code or mode, numbers out of range or not whole, an empty job id, not an object.
    // A misspelt key is an error when saved; read back (a newer version's key) it is dropped.
    expect(projectStateInput.safeParse({ ...base, evaluate: { ...evaluate, dataa: '/d' } }).success).toBe(false);
    expect(storedProjectState.safeParse({ ...base, evaluate: { ...evaluate, dataa: '/d' } }).data?.evaluate).toEqual(evaluate);
    const bad = [
      { ...evaluate, task: 'gsm8k' },
      { ...evaluate, languages: 'all' },
      { ...evaluate, languages: ['not a code!'] },
      { ...evaluate, preset: 'okapi' },
      { ...evaluate, limit: 0 },
      { ...evaluate, fewshot: 1.5 },
      { ...evaluate, fewshot: 101 },
      { ...evaluate, fewshot: '2' },
      { ...evaluate, adapter: 'merged' },
      { ...evaluate, jobId: '' },
      // The stored evaluation run it shows (evaluate.runId): a run id or null, nothing else.
      { ...evaluate, runId: 0 },
      { ...evaluate, runId: -3 },
      { ...evaluate, runId: 2.5 },
      { ...evaluate, runId: '7' },
      { ...evaluate, runId: Number.MAX_SAFE_INTEGER + 2 },
      'a string',
    ];
    for (const e of bad) {
      expect(projectStateInput.safeParse({ ...base, evaluate: e }).success, JSON.stringify(e)).toBe(false);
      const read = storedProjectState.safeParse({ ...base, evaluate: e });
      expect(read.success).toBe(true);
      expect(read.data?.evaluate).toBeUndefined();
      expect(read.data?.modelPath).toBe('/m');
    }
  });

  it('keeps the Phrases step choices (left out while unused), strict on save, dropped when damaged on read', () => {
    const base = projectStateOf(chosen, {});
    expect('phrases' in base).toBe(false);
    const phrases = {
      ...INITIAL_PHRASES,
      source: 'neuronpedia' as const,
      importForm: { path: '/flores', languages: 'en, hi', split: 'dev' as const, outDir: '/o/import' },
      neuronpediaForm: { export: '/np', source: '20-gemmascope-res-16k', by: 'search' as const, features: '', search: 'newlines', tokenizer: '/m', out: '/o/p.jsonl' },
      targets: { zh: { model: '/opus-mt-en-zh', targetToken: '>>cmn_Hans<<' } },
      translateDir: '/o/tr',
      beams: 4,
    };
    const state = projectStateOf({ ...chosen, step: 'phrases', phrases }, {});
    expect(projectStateInput.safeParse(state).success).toBe(true);
    expect({ ...INITIAL_WIZARD, ...wizardOf(state) }.phrases).toEqual(phrases);
    expect(wizardOf(base).phrases).toBe(INITIAL_PHRASES);
    // A misspelt key is an error when saved; read back (a newer version's key) it is dropped.
    expect(projectStateInput.safeParse({ ...base, phrases: { ...phrases, sourcee: 'import' } }).success).toBe(false);
    expect(storedProjectState.safeParse({ ...base, phrases: { ...phrases, sourcee: 'import' } }).data?.phrases).toEqual(phrases);
    const bad = [
      { ...phrases, source: 'udhr' },
      { ...phrases, importForm: { ...phrases.importForm, split: 'test' } },
      { ...phrases, importForm: { path: '/x' } },
      { ...phrases, neuronpediaForm: { ...phrases.neuronpediaForm, by: 'run' } },
      { ...phrases, targets: { 'not a code!': { model: '/m', targetToken: '' } } },
      { ...phrases, targets: { zh: { model: '/m' } } },
      { ...phrases, beams: '4' },
      { ...phrases, translateDir: 'x'.repeat(5000) },
      'a string',
    ];
    for (const p of bad) {
      expect(projectStateInput.safeParse({ ...base, phrases: p }).success, JSON.stringify(p).slice(0, 200)).toBe(false);
      const read = storedProjectState.safeParse({ ...base, phrases: p });
      expect(read.success).toBe(true);
      expect(read.data?.phrases).toBeUndefined();
      expect(read.data?.modelPath).toBe('/m');
    }
  });

  it('opens an unknown step as the first one', () => {
    expect(wizardOf({ ...projectStateOf(chosen, {}), step: 'nosuchstep' }).step).toBe('languages');
  });

  it('reopens a project saved on the Corpus step on the Phrases step (the Corpus step grew into it)', () => {
    expect(wizardOf({ ...projectStateOf(chosen, {}), step: 'corpus' }).step).toBe('phrases');
    expect(wizardOf({ ...projectStateOf(chosen, {}), step: 'phrases' }).step).toBe('phrases');
    expect(projectStateOf({ ...chosen, step: 'phrases', corpus: '/data/translated/corpus.tsv' }, {})).toMatchObject({ step: 'phrases', corpus: '/data/translated/corpus.tsv' });
  });

  it('exports a reopened run with the phrases.json its summary read (per-feature figures), and without one when it read none', () => {
    const run = (extra: object) =>
      ({
        request: { model: '/m', saes: ['/s/a'], languages: ['en', 'hi'], corpus: '/d/corpus.tsv', limit: null, settings: {}, outDir: null },
        summary: { settings: { reduction: 'mean', features: 'all', includeBos: false, bootstrap: 0, keepFeatures: 64 }, ...extra },
      }) as unknown as AnalysisRunRecord;
    expect(requestOfRun(run({ per_feature: [], per_feature_phrases: { file: '/d/phrases.json', phrases: 3, features: 1, warnings: [] } }))?.phrases).toBe('/d/phrases.json');
    expect(requestOfRun(run({}))).not.toHaveProperty('phrases');
  });

  it('reopens a run that named its SAEs by folder (the CLI, the demo study) with the SAE files its summary read; none named: null', () => {
    const run = (saes: unknown, summarySaes: unknown) =>
      ({
        request: { model: '/m', saes, languages: ['en', 'hi'], corpus: 'udhr', limit: 40, settings: {}, outDir: '/out/analysis' },
        summary: { settings: { reduction: 'mean', features: 'all', includeBos: false, bootstrap: 0, keepFeatures: 64 }, saes: summarySaes },
      }) as unknown as AnalysisRunRecord;
    const read = [{ layer: 0, source: '/s/blocks.0.safetensors' }, { layer: 3, source: '/s/blocks.3.safetensors' }];
    expect(requestOfRun(run('/s', read))).toMatchObject({ model: '/m', saes: ['/s/blocks.0.safetensors', '/s/blocks.3.safetensors'], languages: ['en', 'hi'], corpus: 'udhr', limit: 40 });
    // Named file by file: the request's own list, as before.
    expect(requestOfRun(run(['/s/blocks.3.safetensors'], read))?.saes).toEqual(['/s/blocks.3.safetensors']);
    expect(requestOfRun(run('/s', []))).toBeNull();
    expect(requestOfRun(run('/s', undefined))).toBeNull();
  });

  it('hashes a summary as the backend does (sha256 of its JSON as UTF-8)', async () => {
    // printf '%s' '{"layers":[0,1],"gap_percent":[1.5,null],"name":"é"}' | sha256sum
    expect(await summarySha256({ layers: [0, 1], gap_percent: [1.5, null], name: 'é' })).toBe('47e907732802242f3bafd6bf64c47353926fd9ca29cb4a3c7ccb66ce73a934f0');
  });
});
