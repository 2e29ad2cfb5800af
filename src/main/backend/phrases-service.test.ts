// phrases.neuronpedia against the independent reference: for both fixture sources (real Gemma
// tokenizer; the demo model's BPE tokenizer) and three settings cases, the phrases written
// equal, line for line, those scripts/reference/make_neuronpedia_fixtures.py selected and decoded
// with the Python `tokenizers` library from the token ids it drew (our side only sees the exported
// token strings). Also: saved API answers, a stored analysis run's top features (real SQLite
// store), the SAE warning, the output rules, and a feature without a usable maximum.
// Uses the built tokenizer worker (out/main/tokenizer-worker.js; `npm test` builds first).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import type { DisparitySummary } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { PhraseLine } from '../../shared/neuronpedia';
import { TokenizerHost } from '../io/tokenizer-host';
import { openDatabase } from '../store/db';
import { RunsRepo } from '../store/runs-repo';
import type { JobContext } from './handler';
import { PhrasesService, type NeuronpediaPhrasesRequest } from './phrases-service';

const ROOT = resolve(__dirname, '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/neuronpedia');
interface Case {
  settings: { threshold: number; rule: 'record-max' | 'token'; maximum: 'maxActApprox' | 'recomputed'; before: number; after: number };
  phrases: { feature: number; text: string; record: number; peak: number; start: number; end: number }[];
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  sources: { modelId: string; sourceId: string; tokenizer: string; features: number[]; apiFile: string; cases: Record<string, Case> }[];
};

const tmp = tempDir();
const tokenizers = new TokenizerHost();
const db = openDatabase(join(tmp.dir, 'store.db'));
const runs = new RunsRepo(db);
const service = new PhrasesService(tokenizers, runs);
afterAll(async () => {
  await tokenizers.close();
  db.close();
  tmp.cleanup();
});

const ctx = (): JobContext => ({ jobId: 'test', signal: new AbortController().signal, progress: () => {}, log: () => {} });
let outs = 0;
const out = () => join(tmp.dir, `phrases-${outs++}.jsonl`);
const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PhraseLine);

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a typed error');
}

describe('phrases.neuronpedia equals the Python reference', { timeout: 60_000 }, () => {
  for (const source of expected.sources) {
    for (const [name, c] of Object.entries(source.cases)) {
      it(`${source.modelId}/${source.sourceId}, ${name}`, async () => {
        const request: NeuronpediaPhrasesRequest = {
          export: FIXTURE,
          source: source.sourceId,
          features: source.features,
          threshold: c.settings.threshold,
          thresholdRule: c.settings.rule,
          maximum: c.settings.maximum,
          window: { before: c.settings.before, after: c.settings.after },
          tokenizer: join(ROOT, source.tokenizer),
          out: out(),
        };
        const result = await service.neuronpedia(request, ctx());
        const lines = readLines(result.out);
        expect(lines.map((l) => [l.feature, l.text])).toEqual(c.phrases.map((p) => [p.feature, p.text]));
        expect(lines.map((l) => [l.provenance.record, l.provenance.peak, ...l.provenance.window])).toEqual(c.phrases.map((p) => [p.record, p.peak, p.start, p.end]));
        expect(lines.every((l) => l.language === 'en' && l.provenance.modelId === source.modelId && l.provenance.sourceId === source.sourceId)).toBe(true);
        expect(result.phrases).toBe(c.phrases.length);
        // The planted cases are counted, not silently lost.
        const dropped = result.features.reduce((s, f) => s + f.dropped.duplicate + f.dropped.unmappable, 0);
        expect(dropped).toBeGreaterThan(0);
      });
    }
  }
});

describe('phrases.neuronpedia inputs and selections', { timeout: 60_000 }, () => {
  const gemma = expected.sources[0];
  const demo = expected.sources[1];
  const gemmaTokenizer = join(ROOT, gemma.tokenizer);

  it('reads a saved API answer as the export: the same phrases for its feature', async () => {
    const apiFile = join(FIXTURE, demo.apiFile);
    const feature = JSON.parse(readFileSync(apiFile, 'utf8')).index as string;
    const result = await service.neuronpedia({ api: [apiFile], source: demo.sourceId, features: [Number(feature)], tokenizer: join(ROOT, demo.tokenizer), out: out() }, ctx());
    const want = demo.cases.default.phrases.filter((p) => p.feature === Number(feature)).map((p) => p.text);
    expect(readLines(result.out).map((l) => l.text)).toEqual(want);
    expect(result.features[0].explanations).toEqual(['newlines']);
    expect(result.modelId).toBe('linguascope-demo');
  });

  it('refuses an API answer of another source, naming both', async () => {
    const e = await rejection(service.neuronpedia({ api: [join(FIXTURE, demo.apiFile)], source: gemma.sourceId, features: [300], tokenizer: gemmaTokenizer, out: out() }, ctx()));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(/source '3-demo-res-512', not '20-gemmascope-res-16k'/);
  });

  it('selects by a plain-text search of the explanations', async () => {
    const result = await service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, search: 'PARIS', tokenizer: gemmaTokenizer, out: out() }, ctx());
    expect(result.selection).toMatchObject({ by: 'search', matched: 1 });
    expect([...new Set(readLines(result.out).map((l) => l.feature))]).toEqual([42]);
    expect(result.features[0].explanations).toEqual(['the capital city Paris']);
    expect(readLines(result.out).map((l) => l.text)).toEqual(gemma.cases.default.phrases.filter((p) => p.feature === 42).map((p) => p.text));
  });

  it("selects the top features of a stored analysis run at the source's layer, and checks the run's SAE", async () => {
    const summary = {
      languages: [{ code: 'en', name: 'English', tier: 'reference' }],
      layers: [19, 20],
      segments: 1,
      gap_percent: [null, null],
      model: { path: '/m', fingerprint: 'f' },
      corpus: { source: 'udhr', segments: 1, tokens: {}, skipped: [] },
      settings: {},
      saes: [
        { layer: 19, hook: 'blocks.19.hook_resid_post', source: '/s/layer_19/width_16k/average_l0_73/params.npz', format: 'gemmascope', architecture: 'jumprelu', dIn: 2304, dSae: 16384, averageL0: 73, fingerprint: 'a' },
        { layer: 20, hook: 'blocks.20.hook_resid_post', source: '/s/layer_20/width_16k/average_l0_38/params.npz', format: 'gemmascope', architecture: 'jumprelu', dIn: 2304, dSae: 16384, averageL0: 38, fingerprint: 'b' },
      ],
      top_features: [
        { layer: 19, feature: 5, en: 1, medium_low: 0, difference: 1, phrases: [] },
        { layer: 20, feature: 2050, en: 1, medium_low: 0, difference: 1, phrases: [] },
        { layer: 20, feature: 5, en: 1, medium_low: 0, difference: 0.5, phrases: [] },
        { layer: 20, feature: 42, en: 1, medium_low: 0, difference: 0.2, phrases: [] },
      ],
    } as unknown as DisparitySummary;
    const run = runs.add({ method: 'analysis.run', name: 'r', jobId: null, startedAt: '2026-11-30T00:00:00Z', finishedAt: '2026-11-30T00:00:01Z', seconds: 1, request: { outDir: null } as never, summary });
    const result = await service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, fromRun: { runId: run.id, top: 2 }, tokenizer: gemmaTokenizer, out: out() }, ctx());
    expect(result.features.map((f) => f.feature)).toEqual([2050, 5]);
    expect(result.warnings.some((w) => /average_l0_38, but .*average_l0_71/.test(w))).toBe(true);
    const e = await rejection(service.neuronpedia({ export: FIXTURE, source: '3-demo-res-512', fromRun: { runId: run.id, top: 2 }, tokenizer: gemmaTokenizer, out: out() }, ctx()));
    expect(e.message).toMatch(/no top features at layer 3/);
    expect((await rejection(service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, fromRun: { runId: 999_999, top: 2 }, tokenizer: gemmaTokenizer, out: out() }, ctx()))).code).toBe('RUN_NOT_FOUND');
  });

  it('warns (not fails) when no SAE is named, and when a feature has no positive maximum', async () => {
    const result = await service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, features: [5, 7], tokenizer: gemmaTokenizer, out: out() }, ctx());
    expect(result.warnings.some((w) => /no SAE was named/.test(w))).toBe(true);
    expect(result.warnings.some((w) => /feature 7 has no activation records/.test(w))).toBe(true);
    expect(result.features.find((f) => f.feature === 7)).toMatchObject({ records: 0, phrases: 0 });
  });

  it('never replaces a file it did not write, and replaces its own', async () => {
    const foreign = join(tmp.dir, 'notes.jsonl');
    writeFileSync(foreign, '{"mine": true}\n');
    const e = await rejection(service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, features: [5], tokenizer: gemmaTokenizer, out: foreign }, ctx()));
    expect(e.code).toBe('OUTPUT_EXISTS');
    expect(readFileSync(foreign, 'utf8')).toBe('{"mine": true}\n');
    const ours = out();
    await service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, features: [5], tokenizer: gemmaTokenizer, out: ours }, ctx());
    const again = await service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, features: [42], tokenizer: gemmaTokenizer, out: ours }, ctx());
    expect(new Set(readLines(again.out).map((l) => l.feature))).toEqual(new Set([42]));
  });

  it("warns that the tokenizer is not the export model's when most token strings are not in its vocabulary", async () => {
    const result = await service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, features: [5], tokenizer: join(ROOT, demo.tokenizer), out: out() }, ctx());
    expect(result.warnings.some((w) => /distinct token strings .* not in the tokenizer's vocabulary — is .* the tokenizer of gemma-2-2b\?/.test(w))).toBe(true);
    expect(result.features[0].dropped.unmappable).toBeGreaterThan(0);
    const right = await service.neuronpedia({ export: FIXTURE, source: gemma.sourceId, features: [5], tokenizer: gemmaTokenizer, out: out() }, ctx());
    expect(right.warnings.some((w) => /not in the tokenizer's vocabulary/.test(w))).toBe(false);
  });
});
