// The fast precision's fidelity gate on the bundled demo model and SAEs (real onnxruntime
// sessions, UDHR text tokenized by the demo's tokenizer): int8 passes the default tolerance; a
// deliberately bad 2-bit quantization (the test hook) trips it with a typed error naming figures.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisparitySettings } from '../../shared/dto';
import { alignDocuments } from '../data/alignment';
import { loadUdhr } from '../data/udhr';
import { RuntimeHost } from '../engine/runtime-host';
import { loadTokenizer, tokenizeText } from '../io/tokenizer';
import { openModelFolder } from '../models/model';
import { loadSae, saeLayer, type SaeSpec } from '../sae/sae';
import { DEFAULT_DISPARITY } from './disparity';
import { checkGate, GATE_DEFAULTS, gateSample, precisionGate, type GateInput } from './precision-gate';

const demo = fileURLToPath(new URL('../../../resources/demo/', import.meta.url));
const runtime = new RuntimeHost();
let input: Omit<GateInput, 'settings'>;

beforeAll(async () => {
  const folder = openModelFolder(join(demo, 'model'));
  const saes: SaeSpec[] = [];
  for (const L of [1, 3, 5]) saes.push(await loadSae(join(demo, 'saes', `blocks.${L}.hook_resid_post.safetensors`)));
  const languages = [
    { code: 'en', name: 'English', tier: 'reference' as const, corpus: 'eng' },
    { code: 'es', name: 'Spanish', tier: 'high' as const, corpus: 'spa' },
    { code: 'hi', name: 'Hindi', tier: 'medium-low' as const, corpus: 'hin' },
  ];
  const docs = Object.fromEntries(languages.map((l) => [l.code, loadUdhr(l.corpus)]));
  const tokenizer = loadTokenizer(join(demo, 'model'));
  const segments: GateInput['segments'] = [];
  const phrases: { tokens: number[] }[] = [];
  for (const s of alignDocuments(docs).segments) {
    const text = Object.fromEntries(languages.map((l) => [l.code, s.paragraphs[l.code].join('\n')]));
    const ids = languages.map((l) => tokenizeText(tokenizer, text[l.code], true).ids);
    if (ids.some((t) => t.length > 400)) continue; // keeps the test quick on 2 cores
    segments.push({ key: s.key, text });
    for (const t of ids) phrases.push({ tokens: t });
  }
  input = { folder, saes, runtime, languages: languages.map(({ code, name, tier }) => ({ code, name, tier })), layers: saes.map((s) => saeLayer(s)!), segments, phrases };
}, 60_000);
afterAll(() => runtime.close());

const settings = (extra: Partial<DisparitySettings> = {}): DisparitySettings => ({ ...DEFAULT_DISPARITY, precision: 'fast', gateSegments: 8, ...extra });

describe('the fidelity gate', () => {
  it('passes int8 on the demo model within the default tolerance, with figures measured (not zero)', async () => {
    expect(input.segments.length).toBeGreaterThan(8);
    const report = await precisionGate({ ...input, settings: settings() });
    if (process.env.GATE_DEBUG) console.log(JSON.stringify(report));
    expect(report.segments).toBe(8);
    expect(report.phrases).toBe(24);
    expect(report.thresholds).toEqual({ max_mean_rel_diff: GATE_DEFAULTS.gateMaxMeanDiff, max_gap_diff_points: GATE_DEFAULTS.gateMaxGapDiff, min_top_overlap: GATE_DEFAULTS.gateMinTopOverlap });
    expect(report.passed).toBe(true);
    // Two different computations: the gate measured a difference (0 would mean fast ran float32).
    expect(report.max_mean_rel_diff).toBeGreaterThan(0);
    expect(report.max_mean_rel_diff).toBeLessThanOrEqual(GATE_DEFAULTS.gateMaxMeanDiff);
    expect(report.min_top_overlap).toBeGreaterThanOrEqual(GATE_DEFAULTS.gateMinTopOverlap);
    expect(() => checkGate(report)).not.toThrow();
  }, 300_000);

  it('trips on a deliberately bad (2-bit) quantization and names the figures in a typed error', async () => {
    const report = await precisionGate({ ...input, settings: settings({ gateSegments: 4 }), quantize: { bits: 2 } });
    if (process.env.GATE_DEBUG) console.log(JSON.stringify(report));
    expect(report.passed).toBe(false);
    let error: unknown;
    try {
      checkGate(report);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'PRECISION_GATE_FAILED', details: { passed: false, max_mean_rel_diff: report.max_mean_rel_diff } });
    const message = (error as Error).message;
    expect(message).toMatch(/fidelity gate on 4 segment\(s\)/);
    expect(message).toMatch(/gateMaxMeanDiff|gateMaxGapDiff|gateMinTopOverlap/);
    expect(message).not.toMatch(/\n/);
  }, 300_000);

  it('a tolerance the user tightens to 0 refuses even int8', async () => {
    const report = await precisionGate({ ...input, settings: settings({ gateSegments: 2, gateMaxMeanDiff: 0 }) });
    expect(report.passed).toBe(false);
    expect(() => checkGate(report)).toThrow(/mean activation differs by .* tolerance 0 %, gateMaxMeanDiff/);
  }, 300_000);
});

describe('the gate cancelled', () => {
  it('stops with CANCELLED and no report, whether cancelled before or while it runs', async () => {
    const before = new AbortController();
    before.abort();
    await expect(precisionGate({ ...input, settings: settings({ gateSegments: 2 }), signal: before.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    const during = new AbortController();
    const run = precisionGate({ ...input, settings: settings({ gateSegments: 4 }), signal: during.signal, progress: () => during.abort() });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  }, 300_000);
});

describe('gateSample', () => {
  it('spreads n segments over the corpus, every one when n ≥ S', () => {
    expect(gateSample(5, 16)).toEqual([0, 1, 2, 3, 4]);
    expect(gateSample(100, 4)).toEqual([0, 25, 50, 75]);
    expect(gateSample(10, 3)).toEqual([0, 3, 6]);
    for (const [S, n] of [[1, 1], [7, 7], [1000, 16], [17, 16]]) {
      const s = gateSample(S, n);
      expect(s.length).toBe(Math.min(S, n));
      expect(new Set(s).size).toBe(s.length);
      expect(s.every((i) => i >= 0 && i < S)).toBe(true);
    }
  });
});
