// The SAE/source check by class: the matching file, another L0 variant of the layer, another layer,
// another width, another hook, an SAE that cannot tell its L0, no SAE named, and source.jsonl's
// hfFolderId taking precedence over the canonical table.
import { describe, expect, it } from 'vitest';
import { GEMMA_2B_RES_16K_CANONICAL_L0, saeMismatchWarnings, sourceFacts, type SaeFacts } from './sae-match';

const src = ['gemma-2-2b', '20-gemmascope-res-16k'] as const;
const canonical20: SaeFacts = { path: '/s/layer_20/width_16k/average_l0_71/params.npz', layer: 20, hook: 'blocks.20.hook_resid_post', dSae: 16384, averageL0: 71 };

describe('saeMismatchWarnings', () => {
  it('reads the source id: layer, site, width, and the canonical L0 of Gemma Scope 2B 16k', () => {
    expect(sourceFacts(...src, null)).toEqual({ layer: 20, site: 'res', width: '16k', averageL0: 71, file: 'layer_20/width_16k/average_l0_71 (canonical)' });
    expect(GEMMA_2B_RES_16K_CANONICAL_L0).toHaveLength(26);
  });
  it('says nothing when the SAE is the canonical file of that layer', () => {
    expect(saeMismatchWarnings(...src, null, canonical20)).toEqual([]);
  });
  it.each([
    ['another L0 variant of the layer', { averageL0: 38, path: '/s/layer_20/width_16k/average_l0_38/params.npz' }, /average_l0_38, but .*average_l0_71/],
    ['another layer', { layer: 19, hook: 'blocks.19.hook_resid_post' }, /layer 19, but .* layer 20/],
    ['another width', { dSae: 65536 }, /65536 features, but .* width 16k/],
    ['another site', { hook: 'blocks.20.hook_mlp_out' }, /reads blocks\.20\.hook_mlp_out/],
    ['an L0 it does not say', { averageL0: null }, /does not say its average L0/],
  ])('warns for %s', (_what, change, message) => {
    const w = saeMismatchWarnings(...src, null, { ...canonical20, ...change });
    expect(w.some((x) => message.test(x))).toBe(true);
  });
  it('warns that nothing was checked when no SAE was named', () => {
    expect(saeMismatchWarnings(...src, null, null)[0]).toMatch(/no SAE was named/);
  });
  it("takes source.jsonl's hfFolderId over the table", () => {
    const meta = { saelensRelease: null, saelensSaeId: null, hfRepoId: 'google/gemma-scope-2b-pt-res', hfFolderId: 'layer_20/width_16k/average_l0_38' };
    expect(saeMismatchWarnings(...src, meta, { ...canonical20, averageL0: 38 })).toEqual([]);
    expect(saeMismatchWarnings(...src, meta, canonical20)[0]).toMatch(/average_l0_71, but .*layer_20\/width_16k\/average_l0_38/);
  });
  it('checks only what a source id without a known file tells', () => {
    const sae: SaeFacts = { path: '/demo', layer: 3, hook: 'blocks.3.hook_resid_post', dSae: 512, averageL0: null };
    expect(saeMismatchWarnings('linguascope-demo', '3-demo-res-512', null, sae)).toEqual([]);
    expect(saeMismatchWarnings('linguascope-demo', '3-demo-res-512', null, { ...sae, dSae: 256 })[0]).toMatch(/256 features/);
  });
});
