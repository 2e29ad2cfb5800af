// The run history's per-kind text: the list's digest line for each kind, which runs may be ticked
// for comparison (analyses only; damaged ones never), and a fine-tune's figure rows with their
// intervals at the digits each figure is stated in.
import { describe, expect, it } from 'vitest';
import type { RunListItem } from '../../../../shared/dto';
import type { FinetuneResult } from '../../../../shared/finetune';
import { compareRefusal, digestLine, finetuneFigureRows, kindLabel } from './run-figures';

const common = { id: 1, name: 'r', startedAt: '', finishedAt: '', seconds: 1, outDir: null, summarySha256: 'a'.repeat(64), problem: null };
const analysis = { ...common, kind: 'analysis', method: 'analysis.run', model: '/m', languages: ['en', 'hi'], layers: [0, 1, 2], segments: 5, corpus: 'udhr', settings: { reduction: 'max' }, gapRange: [-2.04, 13.96] } as unknown as RunListItem;
const evaluation: RunListItem = { ...common, kind: 'evaluation', method: 'eval.run', model: '/m', adapter: '/ft/adapter', preset: 'okapi-original', tasks: ['arc', 'mmlu'], languages: ['en'], meanAcc: { before: 0.25, after: 0.3125 } };
const finetune: RunListItem = { ...common, kind: 'finetune', method: 'finetune.run', model: '/m', languages: ['en', 'hi'], steps: 3, stepsPlanned: 10, outcome: 'early-stopped', gainPercent: { hi: 2.5 }, meanGainPercent: 2.5, retentionPercent: 99.94 };
const sweep: RunListItem = { ...common, kind: 'sweep', method: 'sweep.run', model: '/m', languages: ['en', 'hi'], points: 4, pointsRan: 1, outDir: '/sweeps/a' };

describe('run history text by kind', () => {
  it('digests each kind in one line', () => {
    expect(digestLine(analysis)).toBe('3 layers, 5 segments, max, gap -2.0 … 14.0 %');
    expect(digestLine({ ...analysis, gapRange: null } as RunListItem)).toBe('3 layers, 5 segments, max, gap —');
    expect(digestLine(evaluation)).toBe('okapi-original, arc/mmlu, adapter /ft/adapter; mean acc 25.0 % → 31.3 %');
    expect(digestLine({ ...evaluation, adapter: null, meanAcc: { before: null, after: null } })).toBe('okapi-original, arc/mmlu; mean acc —');
    expect(digestLine(finetune)).toBe('early-stopped, 3/10 steps; mean gain +2.5 %, English retention 99.9 %');
    expect(digestLine({ ...finetune, meanGainPercent: -1.25, retentionPercent: null })).toBe('early-stopped, 3/10 steps; mean gain -1.3 %, English retention —');
    expect(digestLine({ ...finetune, meanGainPercent: null })).toMatch(/mean gain —/);
    expect(digestLine(sweep)).toBe('4 points (1 trained now) in /sweeps/a');
    expect(digestLine({ ...sweep, points: 1, outDir: null })).toBe('1 point (1 trained now)');
  });

  it('lets only undamaged analyses be compared, saying why not', () => {
    expect(compareRefusal(analysis)).toBeNull();
    expect(compareRefusal({ ...analysis, problem: 'damaged' } as RunListItem)).toBe('a damaged run cannot be compared');
    expect(compareRefusal(evaluation)).toBe('only analyses can be compared (this is an evaluation)');
    expect(compareRefusal(finetune)).toBe('only analyses can be compared (this is a fine-tune)');
    expect(compareRefusal(sweep)).toBe('only analyses can be compared (this is a sweep)');
    // A kind a newer version stored: listed by the backend with its problem, labelled as stored.
    const unknown = { ...common, kind: 'training', method: 'train.run', languages: [], problem: 'cannot open' } as unknown as RunListItem;
    expect(compareRefusal(unknown)).toBe('a damaged run cannot be compared');
    expect(digestLine(unknown)).toBe('');
    expect(kindLabel('training')).toBe('training');
    expect(kindLabel('finetune')).toBe('fine-tune');
    expect(kindLabel('constructor')).toBe('constructor');
  });

  it("states a fine-tune's held-out figures with their intervals", () => {
    const result = {
      report: {
        gain_percent: { hi: { value: 3.14159, ci: [1, 5.5] }, ml: { value: null, ci: null } },
        retention_percent: { value: 99.5, ci: [98.25, 100.75] },
        retention_cosine: { value: 0.987654, ci: null },
      },
    } as unknown as FinetuneResult;
    expect(finetuneFigureRows(result)).toEqual([
      { figure: 'activation gain hi %', value: '3.14', interval: '[1.00, 5.50]' },
      { figure: 'activation gain ml %', value: '—', interval: 'none' },
      { figure: 'English retention %', value: '99.50', interval: '[98.25, 100.75]' },
      { figure: 'English retention cosine', value: '0.9877', interval: 'none' },
    ]);
  });
});
