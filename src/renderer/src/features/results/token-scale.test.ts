import { describe, expect, it } from 'vitest';
import type { TokenActivations } from '../../../../shared/dto';
import { segmentScale } from './token-scale';

const result = (feature: number, values: number[]) => ({ features: [{ feature, values }] }) as unknown as TokenActivations;

describe('segment token scale', () => {
  it('is the feature\'s maximum over every loaded language of the segment', () => {
    expect(segmentScale([result(7, [0, 0.5, 2]), undefined, result(7, [4, 0]), result(7, [1])], 7)).toEqual({ max: 4, languages: 3 });
  });

  it('ignores other features and non-finite values, and is 0 when nothing fires or nothing is loaded', () => {
    expect(segmentScale([result(8, [9]), result(7, [Number.NaN, 1])], 7)).toEqual({ max: 1, languages: 2 });
    expect(segmentScale([result(7, [0, -1])], 7)).toEqual({ max: 0, languages: 1 });
    expect(segmentScale([undefined], 7)).toEqual({ max: 0, languages: 0 });
  });
});
