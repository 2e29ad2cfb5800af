// Comparing two runs: differing settings are marked (and only those), layers and languages of
// either run are kept with gaps where one run lacks them, deltas are b - a.
import { describe, expect, it } from 'vitest';
import type { DisparitySettings, AnalysisRunRecord } from '../../../../shared/dto';
import { chartRows, differences, settingRows } from './compare';

const SETTINGS: DisparitySettings = { reduction: 'mean', features: 'english-active', includeBos: false, bootstrap: 50, seed: 1, fidelityWarnDrop: 0.1, topFeatures: 10, keepFeatures: 128 };

function run(over: { settings?: Partial<DisparitySettings>; layers: number[]; gap: (number | null)[]; mean: Record<string, (number | null)[]>; limit?: number | null }): AnalysisRunRecord {
  const languages = Object.keys(over.mean).map((code) => ({ code, name: code, tier: code === 'en' ? ('reference' as const) : ('medium-low' as const) }));
  return {
    request: { model: '/m', saes: ['/s'], languages: languages.map((l) => l.code), corpus: 'udhr', limit: over.limit === undefined ? 3 : over.limit, settings: {}, outDir: null },
    fingerprints: { model: 'f'.repeat(64), saes: over.layers.map((layer) => ({ layer, source: `/s/${layer}`, fingerprint: 'a'.repeat(64) })) },
    summary: {
      languages,
      layers: over.layers,
      segments: 3,
      gap_percent: over.gap,
      mean_activation: over.mean,
      settings: { ...SETTINGS, ...over.settings },
      corpus: { source: 'udhr', segments: 3, tokens: {}, skipped: [] },
      model: { path: '/m', fingerprint: 'f'.repeat(64) },
    },
  } as unknown as AnalysisRunRecord;
}

describe('comparing runs', () => {
  const a = run({ layers: [0, 1], gap: [10, 20], mean: { en: [1, 2], hi: [0.5, 1] } });
  const b = run({ settings: { reduction: 'max' }, layers: [1, 2], gap: [25, null], mean: { en: [3, 4], ml: [1, 1] }, limit: null });

  it('marks exactly the settings and inputs that differ', () => {
    const rows = settingRows(a, b);
    expect(rows.filter((r) => r.differs).map((r) => r.name)).toEqual(['reduction', 'segment limit', 'languages', 'tiers', 'layers', 'SAE fingerprints']);
    expect(rows.find((r) => r.name === 'reduction')).toEqual({ name: 'reduction', a: 'mean', b: 'max', differs: true });
    expect(rows.find((r) => r.name === 'segment limit')).toMatchObject({ a: '3', b: 'all' });
    expect(settingRows(a, a).some((r) => r.differs)).toBe(false);
  });

  it('lines up layers and languages of either run; delta = b - a where both have a value', () => {
    const d = differences(a, b);
    expect(d.filter((x) => x.series === 'gap')).toEqual([
      { layer: 0, series: 'gap', a: 10, b: null, delta: null },
      { layer: 1, series: 'gap', a: 20, b: 25, delta: 5 },
      { layer: 2, series: 'gap', a: null, b: null, delta: null },
    ]);
    expect(d.find((x) => x.layer === 1 && x.series === 'en')).toEqual({ layer: 1, series: 'en', a: 2, b: 3, delta: 1 });
    expect(d.find((x) => x.layer === 1 && x.series === 'ml')).toMatchObject({ a: null, b: 1, delta: null });
    expect(chartRows(d)[1]).toMatchObject({ layer: 1, gap_a: 20, gap_b: 25, en_a: 2, en_b: 3, hi_a: 1, hi_b: null });
  });
});
