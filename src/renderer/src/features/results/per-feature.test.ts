import { describe, expect, it } from 'vitest';
import type { DisparitySummary, PerFeatureFigure } from '../../../../shared/dto';
import { PER_FEATURE_CSV_COLUMNS, perFeatureCsvRows, perFeatureSortValue, perFeatureTableRows } from './per-feature';

const languages: DisparitySummary['languages'] = [
  { code: 'en', name: 'English', tier: 'reference' },
  { code: 'es', name: 'Spanish', tier: 'high' },
  { code: 'hi', name: 'Hindi', tier: 'medium-low' },
];

const figure = (over: Partial<PerFeatureFigure>): PerFeatureFigure => ({
  layer: 1,
  hook: 'blocks.1.hook_resid_post',
  feature: 145,
  source: 'linguascope-tiny/1-linguascope-res-256',
  segments: 4,
  segments_dropped: 0,
  mean_activation: { en: 0.5, es: 0.25, hi: 0.125 },
  deficit_vs_en: { en: 0, es: 50, hi: 75 },
  gap_percent: 50,
  ...over,
});

/** Only the fields the shaping reads; the rest of a summary does not matter here. */
const summary = (per_feature?: PerFeatureFigure[]) => ({ languages, per_feature }) as unknown as DisparitySummary;

describe('per-feature table rows', () => {
  it('is empty without per_feature (the section is hidden)', () => {
    expect(perFeatureTableRows(summary())).toEqual([]);
    expect(perFeatureCsvRows(summary())).toEqual([]);
  });

  it('passes the backend\'s figures through untouched, in the summary\'s feature and language order', () => {
    // Deliberately inconsistent figures (a deficit that m(en) and m(es) would not give, a gap the
    // tier means would not give): a table that recomputed them would differ.
    const odd = figure({ layer: 2, feature: 7, segments: 3, segments_dropped: 2, mean_activation: { hi: 3, en: 1, es: 2 }, deficit_vs_en: { en: 0, es: 12.5, hi: -7 }, gap_percent: 99.9 });
    const rows = perFeatureTableRows(summary([figure({}), odd]));
    expect(rows.map((r) => r.key)).toEqual(['1:145', '2:7']);
    expect(rows[1]).toEqual({
      key: '2:7',
      layer: 2,
      feature: 7,
      source: 'linguascope-tiny/1-linguascope-res-256',
      segments: 3,
      segments_dropped: 2,
      languages: [
        { code: 'en', mean_activation: 1, deficit_vs_en: 0 },
        { code: 'es', mean_activation: 2, deficit_vs_en: 12.5 },
        { code: 'hi', mean_activation: 3, deficit_vs_en: -7 },
      ],
      gap_percent: 99.9,
    });
  });

  it('keeps undefined figures as null, never 0: a null deficit (m(en) = 0), a null gap, a language the figure lacks', () => {
    const [row] = perFeatureTableRows(summary([figure({ mean_activation: { en: 0, es: 0.5 }, deficit_vs_en: { en: null, es: null }, gap_percent: null })]));
    expect(row.languages).toEqual([
      { code: 'en', mean_activation: 0, deficit_vs_en: null },
      { code: 'es', mean_activation: 0.5, deficit_vs_en: null },
      { code: 'hi', mean_activation: null, deficit_vs_en: null },
    ]);
    expect(row.gap_percent).toBeNull();
  });

  it('writes the CSV in the report\'s per_feature.csv columns, one row per feature and language', () => {
    const rows = perFeatureCsvRows(summary([figure({}), figure({ feature: 9, gap_percent: null, deficit_vs_en: { en: 0, es: null, hi: 10 } })]));
    expect(rows).toHaveLength(6);
    expect(Object.keys(rows[0])).toEqual([...PER_FEATURE_CSV_COLUMNS]);
    expect(rows[1]).toEqual({ layer: 1, feature: 145, source: 'linguascope-tiny/1-linguascope-res-256', language: 'es', tier: 'high', segments: 4, segments_dropped: 0, mean_activation: 0.25, deficit_vs_en: 50, gap_percent: 50 });
    expect(rows.slice(3).map((r) => [r.feature, r.language, r.deficit_vs_en, r.gap_percent])).toEqual([
      [9, 'en', 0, null],
      [9, 'es', null, null],
      [9, 'hi', 10, null],
    ]);
  });

  it('sorts by each column\'s own figure; an unknown column or language reads null', () => {
    const [row] = perFeatureTableRows(summary([figure({})]));
    expect(['layer', 'feature', 'segments', 'gap', 'mean_es', 'deficit_hi', 'mean_xx', 'other_es'].map((c) => perFeatureSortValue(row, c))).toEqual([1, 145, 4, 50, 0.25, 75, null, null]);
  });
});
