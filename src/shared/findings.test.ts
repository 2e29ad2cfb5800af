import { describe, expect, it } from 'vitest';
import type { DisparitySummary } from './dto';
import { findings } from './findings';

type Over = Partial<Pick<DisparitySummary, 'gap_percent' | 'gap_percent_ci' | 'gap_reason' | 'deficit_vs_en' | 'fidelity_warnings'>> & { reduction?: 'mean' | 'max'; path?: string };

function summary(over: Over = {}): DisparitySummary {
  return {
    languages: [
      { code: 'en', name: 'English', tier: 'reference' },
      { code: 'es', name: 'Spanish', tier: 'high' },
      { code: 'hi', name: 'Hindi', tier: 'medium-low' },
      { code: 'ml', name: 'Malayalam', tier: 'medium-low' },
      { code: 'id', name: 'Indonesian', tier: 'medium-low' },
    ],
    layers: [2, 6, 10],
    gap_percent: over.gap_percent ?? [12.5, 30.25, -4],
    gap_percent_ci: over.gap_percent_ci ?? [[2, 20], [25, 35], [-9, 1]],
    gap_reason: over.gap_reason ?? null,
    deficit_vs_en: over.deficit_vs_en ?? { en: [0, 0, 0], es: [-5, 2, 3], hi: [20, 40, null], ml: [35, 10, 30], id: [-1, -2, -3] },
    fidelity_warnings: over.fidelity_warnings ?? [],
    settings: { reduction: over.reduction ?? 'mean', features: 'english-active', includeBos: false, bootstrap: 50, seed: 1, fidelityWarnDrop: 0.1, topFeatures: 10, keepFeatures: 128 },
    formulas: { phrase_feature_activation: "a(L, s, l, f) = mean over the phrase's tokens (BOS excluded) of …" },
    model: { path: over.path ?? '/models/user' },
  } as unknown as DisparitySummary;
}

const DEMO = { model: '/demo/model', settings: { reduction: 'max' as const }, settingsReason: 'reduction = max: a demo recipe that differs from the default' };

describe('findings', () => {
  it('gives the gap range with its layers and how many intervals lie above 0', () => {
    const f = findings(summary());
    expect(f.gap).toEqual({ min: { layer: 10, value: -4 }, max: { layer: 6, value: 30.25 }, defined: 3, total: 3, ciAboveZero: 2 });
    expect(f.gapReason).toBeNull();
  });

  it('ranks the languages by mean deficit over the layers where it is defined, and leaves out those above English', () => {
    const f = findings(summary());
    // ml: (35 + 10 + 30) / 3 = 25; hi: (20 + 40) / 2 = 30 over its two layers; es: 0; id below 0.
    expect(f.affected.map((a) => [a.code, a.meanDeficit, a.worst.layer, a.layers])).toEqual([
      ['hi', 30, 6, 2],
      ['ml', 25, 2, 3],
    ]);
    expect(f.compared).toBe(4);
    expect(findings(summary(), null, 1).affected.map((a) => a.code)).toEqual(['hi']);
  });

  it('says why when no layer has a gap, or only some do', () => {
    const none = findings(summary({ gap_percent: [null, null, null], gap_percent_ci: [null, null, null], gap_reason: 'No gap: no high-resource language was chosen.' }));
    expect(none.gap).toBeNull();
    expect(none.gapReason).toBe('No gap: no high-resource language was chosen.');
    // A summary without a stated reason still explains itself.
    expect(findings(summary({ gap_percent: [null, null, null], gap_percent_ci: [null, null, null] })).gapReason).toMatch(/needs at least one high-resource/);
    const some = findings(summary({ gap_percent: [5, null, 7], gap_reason: 'M_high is 0 at layer 6.' }));
    expect(some.gap).toMatchObject({ min: { layer: 2, value: 5 }, max: { layer: 10, value: 7 }, defined: 2, total: 3 });
    expect(some.gapReason).toBe('M_high is 0 at layer 6.');
  });

  it('counts the fidelity warnings with their languages and layers', () => {
    const f = findings(summary({ fidelity_warnings: [
      { language: 'ml', layer: 10, message: 'x' },
      { language: 'hi', layer: 2, message: 'y' },
      { language: 'ml', layer: 2, message: 'z' },
    ] as DisparitySummary['fidelity_warnings'] }));
    expect(f.fidelity).toEqual({ count: 3, languages: ['Malayalam', 'Hindi'], layers: [2, 10] });
    expect(findings(summary()).fidelity.count).toBe(0);
  });

  it('gives the demo\'s reason for the reduction only on the demo model with the demo\'s reduction, else the setting and its formula', () => {
    expect(findings(summary({ path: '/demo/model/', reduction: 'max' }), DEMO).reduction).toEqual({ setting: 'max', reason: DEMO.settingsReason, from: 'demo' });
    const changed = findings(summary({ path: '/demo/model', reduction: 'mean' }), DEMO).reduction;
    expect(changed.from).toBe('formula');
    expect(changed.reason).toBe("the default; a(L, s, l, f) = mean over the phrase's tokens (BOS excluded) of …");
    expect(findings(summary({ reduction: 'max' }), DEMO).reduction.from).toBe('formula');
    expect(findings(summary(), null).reduction.from).toBe('formula');
  });
});
