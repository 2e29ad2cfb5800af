// The Fine-tune step's pure settings helpers: defaults filled in and diffed back, the engine's layer
// defaults, typed layer lists (classes of bad text), default targets, the proposed run folder, and
// requests checked by the contract's own schema.
import { describe, expect, it } from 'vitest';
import { FINETUNE_DEFAULTS } from '../../../../shared/finetune';
import { defaultAdaptLayers, defaultLossLayers, defaultTargets, layerText, parseLayers, proposeRunFolder, requestProblems, settingsDiff, withDefaults } from './settings';

describe('fine-tune settings', () => {
  it('fills the defaults in and diffs back to only what changed', () => {
    expect(withDefaults({})).toEqual(FINETUNE_DEFAULTS);
    expect(settingsDiff(FINETUNE_DEFAULTS)).toEqual({});
    const partial = { loss: { alpha: 0.5 }, lora: { rank: 4, adaptLayers: [0, 1] }, steps: 6, monitor: { evalEvery: 3, watchdog: { threshold: 5 } } };
    const full = withDefaults(partial);
    expect(full.loss).toEqual({ ...FINETUNE_DEFAULTS.loss, alpha: 0.5 });
    expect(full.monitor.watchdog).toEqual({ threshold: 5, steps: FINETUNE_DEFAULTS.monitor.watchdog.steps });
    expect(settingsDiff(full)).toEqual(partial);
    // steps: null (passes) is the default; a number differs.
    expect(settingsDiff(withDefaults({ steps: null }))).toEqual({});
  });

  it('gives the engine\'s default layers: the paper\'s 21 of 26 as a share of the depth, SAE layers within it', () => {
    expect(defaultAdaptLayers(26)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(defaultAdaptLayers(6)).toEqual([0, 1, 2, 3, 4]);
    expect(defaultAdaptLayers(1)).toEqual([0]);
    expect(defaultLossLayers([0, 1, 2, 3, 4], [5, 0, 2, 4])).toEqual([0, 2, 4]);
    expect(layerText([0, 1, 2, 3, 4])).toBe('0..4');
    expect(layerText([0, 2, 5])).toBe('0, 2, 5');
  });

  it('reads layer lists and ranges, and names what is wrong with bad ones', () => {
    expect(parseLayers('')).toEqual({ layers: null });
    expect(parseLayers('  ')).toEqual({ layers: null });
    expect(parseLayers('4, 0-2 2')).toEqual({ layers: [0, 1, 2, 4] });
    expect(parseLayers('0..3')).toEqual({ layers: [0, 1, 2, 3] });
    for (const bad of ['a', '-1', '1.5', '3-1', '0-99999', '1;2', '1e3']) {
      const r = parseLayers(bad);
      expect('error' in r, bad).toBe(true);
    }
  });

  it('targets the chosen medium/low-resource languages, else every chosen one but English', () => {
    const tiers = { en: 'reference', hi: 'medium-low', es: 'high', ml: 'medium-low' } as const;
    expect(defaultTargets(['en', 'es', 'hi', 'ml'], tiers)).toEqual(['hi', 'ml']);
    expect(defaultTargets(['en', 'es'], tiers)).toEqual(['es']);
    expect(defaultTargets(['en'], tiers)).toEqual([]);
  });

  it('proposes a new folder beside the database, named after the project and the time', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5);
    expect(proposeRunFolder('/home/u/.config/linguascope/linguascope.db', 'My demo: ml/hi!', at)).toBe('/home/u/.config/linguascope/finetune/my-demo-ml-hi-20260102-030405');
    expect(proposeRunFolder('C:\\Users\\u\\ls.db', 'Demo', at)).toBe('C:\\Users\\u\\finetune\\demo-20260102-030405');
    expect(proposeRunFolder('ls.db', '???', at)).toBe('./finetune/project-20260102-030405');
  });

  it('checks a request with the contract\'s schema, naming the setting', () => {
    const ok = { model: '/m', saes: ['/s/a'], languages: ['en', 'hi'], outDir: '/o', settings: { lora: { rank: 4 } } };
    expect(requestProblems(ok)).toEqual([]);
    expect(requestProblems({ ...ok, settings: { lora: { rank: 0 } } })[0]).toMatch(/^settings\.lora\.rank: /);
    expect(requestProblems({ ...ok, settings: { data: { heldOut: 1 } } })[0]).toMatch(/^settings\.data\.heldOut: /);
    expect(requestProblems({ ...ok, settings: { optim: { lr: -1 } } })[0]).toMatch(/^settings\.optim\.lr: /);
    expect(requestProblems({ ...ok, outDir: '' })[0]).toMatch(/^outDir: /);
    expect(requestProblems({ ...ok, limit: 1 })[0]).toMatch(/^limit: /);
  });
});
