import { describe, expect, it } from 'vitest';
import type { SaeInfo } from '../../../../shared/dto';
import { defaultChoice, defaultPick, fitWarnings, groupByLayer } from './choose';

const sae = (layer: number, source: string, averageL0: number | null, hook = `blocks.${layer}.hook_resid_post`): SaeInfo => ({
  layer,
  hook,
  source,
  format: 'gemmascope',
  architecture: 'jumprelu',
  dIn: 2304,
  dSae: 16384,
  averageL0,
  fingerprint: source,
});

describe('SAE choice per layer', () => {
  it('groups by layer and picks the average L0 nearest 100, first on a tie, unknown as 100', () => {
    const list = [sae(3, 'a', 40), sae(1, 'b', 300), sae(1, 'c', 82), sae(1, 'd', 118), sae(3, 'e', null), sae(-1, 'f', 10, '')];
    expect(groupByLayer(list).map((g) => [g.layer, g.saes.map((s) => s.source)])).toEqual([[1, ['b', 'c', 'd']], [3, ['a', 'e']]]);
    expect(defaultPick([sae(1, 'b', 300), sae(1, 'c', 82), sae(1, 'd', 118)]).source).toBe('c');
    expect(defaultPick([sae(3, 'a', 40), sae(3, 'e', null)]).source).toBe('e');
    expect(defaultChoice(list)).toEqual({ 1: 'c', 3: 'e' });
  });

  it('warns about a d_in that does not fit, layers the model lacks and SAEs with no or a non-residual hook', () => {
    const model = { layers: 4, architecture: 'Gemma2ForCausalLM', dModel: 2304 };
    expect(fitWarnings(sae(2, 'x', 50), model)).toEqual([]);
    expect(fitWarnings(sae(2, 'x', 50), { ...model, dModel: 64 })).toEqual(["reads vectors of size 2304 (d_in); Gemma2ForCausalLM's residual stream has 64"]);
    expect(fitWarnings(sae(7, 'x', 50), model)).toEqual(['layer 7 does not exist in Gemma2ForCausalLM (layers 0..3)']);
    expect(fitWarnings(sae(2, 'x', 50, 'blocks.2.hook_mlp_out'), null)).toEqual(['hook blocks.2.hook_mlp_out is not a residual-stream hook']);
    expect(fitWarnings(sae(-1, 'x', 50, ''), model)[0]).toMatch(/no hook point is recorded/);
  });
});
