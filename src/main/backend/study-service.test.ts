// study.run's rules before any work (study-service.ts): the study folder is new, empty, or a study
// of ours (whose parts are replaced); anything else is refused with OUTPUT_EXISTS and left as it
// was, byte for byte. Bad targets are INVALID_ARGUMENT naming the setting before any stage starts
// and before anything is written. (The whole study on the demo: study-run.test.ts.)
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejection } from '../../../test/helpers/rejection';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { STUDY_PLAN_FILE } from '../../shared/study';
import { writeOutputFolder } from '../io/output';
import type { JobContext } from './handler';
import { prepareStudyFolder, StudyService, type StudyHandlers, type StudyRequest } from './study-service';

const tmp = tempDir('linguascope-study-service-');
afterAll(() => tmp.cleanup());
let count = 0;
const fresh = (name: string) => join(tmp.dir, `${name}-${++count}`);

/** Every entry under `path` (not following links) with its bytes or link target. */
function snapshot(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string, rel: string) => {
    const s = lstatSync(p);
    if (s.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
    else if (s.isDirectory()) {
      out[rel] = 'dir';
      for (const e of readdirSync(p)) walk(join(p, e), `${rel}/${e}`);
    } else out[rel] = readFileSync(p, 'base64');
  };
  walk(path, '.');
  return out;
}

const PLAN = JSON.stringify({ producer: 'linguascope study', request: { languages: ['en', 'hi'] } });

/** A finished study as study.run leaves it: the plan, the parts (marked output folders, the
 * fine-tune run), the report files and the charts. */
function previousStudy(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, STUDY_PLAN_FILE), PLAN);
  writeOutputFolder(join(dir, 'analysis'), 'analysis report', [{ name: 'summary.json', content: '{}' }, { name: 'report.html', content: '<p>old</p>' }]);
  writeOutputFolder(join(dir, 'task'), 'continuation-task', [{ name: 'continuation-task.json', content: '{}' }]);
  writeOutputFolder(join(dir, 'eval'), 'evaluation', [{ name: 'results.json', content: '{}' }]);
  writeOutputFolder(join(dir, 'correlation'), 'correlation', [{ name: 'correlation.json', content: '{}' }]);
  mkdirSync(join(dir, 'finetune', 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'finetune', 'finetune.json'), '{}');
  writeFileSync(join(dir, 'finetune', 'steps.jsonl'), '');
  writeOutputFolder(join(dir, 'finetune', 'adapter'), 'PEFT adapter', [{ name: 'adapter_config.json', content: '{}' }, { name: 'adapter_model.safetensors', content: 'x' }]);
  writeFileSync(join(dir, 'finetune', 'checkpoints', 'step-0000002.safetensors'), 'x');
  writeOutputFolder(join(dir, 'finetune', 'report'), 'fine-tune report', [{ name: 'result.json', content: '{}' }]);
  mkdirSync(join(dir, 'charts'));
  for (const f of ['gap.svg', 'activation.svg', 'accuracy.svg']) writeFileSync(join(dir, 'charts', f), '<svg/>');
  for (const f of ['report.html', 'study.json', 'figures.csv']) writeFileSync(join(dir, f), 'old');
}

function refused(dir: string, before: Record<string, string>): ApiError {
  let error: unknown;
  try {
    prepareStudyFolder(dir);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe('OUTPUT_EXISTS');
  expect((error as ApiError).message).toContain(dir);
  expect(snapshot(dir)).toEqual(before);
  return error as ApiError;
}

describe('prepareStudyFolder', () => {
  it('a missing folder (its parents too) or an empty one is new, and stays as it was', () => {
    const missing = join(fresh('missing'), 'a', 'b');
    expect(prepareStudyFolder(missing)).toBe('new');
    expect(() => lstatSync(missing)).toThrow();
    const empty = fresh('empty');
    mkdirSync(empty);
    expect(prepareStudyFolder(empty)).toBe('new');
    expect(readdirSync(empty)).toEqual([]);
  });

  it('a file, a link to a folder, a link to nothing: OUTPUT_EXISTS, untouched', () => {
    const file = fresh('file');
    writeFileSync(file, 'my notes');
    expect(refused(file, snapshot(file)).message).toMatch(/is a file/);
    const target = fresh('target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'mine');
    const link = fresh('link');
    symlinkSync(target, link);
    expect(refused(link, snapshot(link)).message).toMatch(/symbolic link/);
    expect(snapshot(target)).toEqual({ '.': 'dir', './keep.txt': Buffer.from('mine').toString('base64') });
    const dangling = fresh('dangling');
    symlinkSync(join(tmp.dir, 'nowhere'), dangling);
    expect(refused(dangling, snapshot(dangling)).message).toMatch(/symbolic link/);
  });

  it.each([
    ['a foreign file', (d: string) => writeFileSync(join(d, 'thesis.docx'), 'years of work')],
    ['a foreign folder', (d: string) => mkdirSync(join(d, 'data'))],
    ['a folder named like a part, without a plan', (d: string) => writeOutputFolder(join(d, 'analysis'), 'analysis report', [{ name: 'summary.json', content: '{}' }])],
    ['only hidden files', (d: string) => writeFileSync(join(d, '.notes'), 'mine')],
    ['a plan that is not JSON', (d: string) => writeFileSync(join(d, STUDY_PLAN_FILE), '{"producer": "linguascope study"')],
    ['a plan of another producer', (d: string) => writeFileSync(join(d, STUDY_PLAN_FILE), JSON.stringify({ producer: 'someone else' }))],
    ['a plan that is a JSON string', (d: string) => writeFileSync(join(d, STUDY_PLAN_FILE), JSON.stringify('linguascope study'))],
    ['a plan that is JSON null', (d: string) => writeFileSync(join(d, STUDY_PLAN_FILE), 'null')],
    ['a plan that is a folder', (d: string) => mkdirSync(join(d, STUDY_PLAN_FILE))],
    ['a plan that is a link to a plan of ours', (d: string) => {
      const real = join(d, '..', `${d.split('/').pop()}-real-plan.json`);
      writeFileSync(real, PLAN);
      symlinkSync(real, join(d, STUDY_PLAN_FILE));
    }],
  ])('a non-empty folder that is not a study of ours (%s): OUTPUT_EXISTS, untouched', (_, make) => {
    const dir = fresh('foreign');
    mkdirSync(dir);
    make(dir);
    refused(dir, snapshot(dir));
  });

  it('a previous study with hidden entries (.DS_Store, a hidden folder): the parts are replaced, hidden entries kept as they were', () => {
    const dir = fresh('hidden');
    previousStudy(dir);
    writeFileSync(join(dir, '.DS_Store'), 'finder');
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main');
    expect(prepareStudyFolder(dir)).toBe('replaced');
    expect(readdirSync(dir).sort()).toEqual(['.DS_Store', '.git']);
    expect(readFileSync(join(dir, '.DS_Store'), 'utf8')).toBe('finder');
    expect(readFileSync(join(dir, '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main');
  });

  it('a previous study of ours: its parts and report are removed, and the folder kept', () => {
    const dir = fresh('previous');
    previousStudy(dir);
    expect(prepareStudyFolder(dir)).toBe('replaced');
    expect(readdirSync(dir)).toEqual([]);
    // A crashed study (the plan and some parts) is ours too.
    const crashed = fresh('crashed');
    mkdirSync(crashed);
    writeFileSync(join(crashed, STUDY_PLAN_FILE), PLAN);
    writeOutputFolder(join(crashed, 'analysis'), 'analysis report', [{ name: 'summary.json', content: '{}' }]);
    expect(prepareStudyFolder(crashed)).toBe('replaced');
    expect(readdirSync(crashed)).toEqual([]);
  });

  it.each([
    ['a foreign file beside the parts', (d: string) => writeFileSync(join(d, 'thesis.docx'), 'years of work')],
    ['a foreign file in the analysis part', (d: string) => writeFileSync(join(d, 'analysis', 'notes.txt'), 'mine')],
    ['a foreign file in the evaluation part', (d: string) => writeFileSync(join(d, 'eval', 'notes.txt'), 'mine')],
    ['a foreign file in the fine-tune run', (d: string) => writeFileSync(join(d, 'finetune', 'notes.txt'), 'mine')],
    ['a foreign file in the fine-tune report', (d: string) => writeFileSync(join(d, 'finetune', 'report', 'notes.txt'), 'mine')],
    ['a foreign file in the adapter', (d: string) => writeFileSync(join(d, 'finetune', 'adapter', 'notes.txt'), 'mine')],
    ['a foreign file among the checkpoints', (d: string) => writeFileSync(join(d, 'finetune', 'checkpoints', 'best.safetensors'), 'mine')],
    ['a foreign file in the task part', (d: string) => writeFileSync(join(d, 'task', 'notes.txt'), 'mine')],
    ['a foreign file among the charts', (d: string) => writeFileSync(join(d, 'charts', 'my-chart.svg'), '<svg/>')],
    ['a part that is a link to a folder of the user', (d: string) => {
      const mine = join(d, '..', `${d.split('/').pop()}-mine`);
      mkdirSync(mine);
      writeFileSync(join(mine, 'keep.txt'), 'mine');
      rmSync(join(d, 'correlation'), { recursive: true });
      symlinkSync(mine, join(d, 'correlation'), 'dir');
    }],
    ['report.html that is a folder of the user', (d: string) => {
      rmSync(join(d, 'report.html'));
      mkdirSync(join(d, 'report.html'));
      writeFileSync(join(d, 'report.html', 'keep.txt'), 'mine');
    }],
    ['study.json that is a link to a file of the user', (d: string) => {
      const mine = join(d, '..', `${d.split('/').pop()}-mine.json`);
      writeFileSync(mine, 'mine');
      rmSync(join(d, 'study.json'));
      symlinkSync(mine, join(d, 'study.json'));
    }],
  ])('a previous study plus %s: OUTPUT_EXISTS, nothing touched', (_, make) => {
    const dir = fresh('mixed');
    previousStudy(dir);
    make(dir);
    const before = snapshot(dir);
    refused(dir, before);
  });
});

/** Stage handlers that must not run: each call is recorded and fails the request. */
function noWork() {
  const calls: string[] = [];
  const stop = (name: string) => async () => {
    calls.push(name);
    throw new Error(`${name} ran`);
  };
  const handlers = { 'analysis.export': stop('analysis.export'), 'finetune.run': stop('finetune.run'), 'eval.run': stop('eval.run'), 'eval.correlate': stop('eval.correlate') } as unknown as StudyHandlers;
  const source = {
    segmentTextsOf: () => {
      calls.push('segmentTextsOf');
      throw new Error('segmentTextsOf ran');
    },
  };
  return { calls, service: new StudyService(handlers, source as never) };
}

const ctx: JobContext = { jobId: 'test', signal: new AbortController().signal, progress: () => {}, log: () => {} };

describe('StudyService.run: bad targets before any work', () => {
  const request = (over: Partial<StudyRequest>): StudyRequest => ({ model: '/m', saes: '/s', languages: ['en', 'de', 'hi', 'mr'], outDir: fresh('study'), ...over }) as StudyRequest;

  it.each([
    ['English', ['en'], /English .* cannot be a target/],
    ['English among others', ['hi', 'en'], /English .* cannot be a target/],
    ['English spelled in capitals', ['EN'], /English .* cannot be a target|not among the languages/],
    ['English with a region', ['en-US'], /English .* cannot be a target|not among the languages/],
    ['a language not measured', ['ml'], /target ml is not among the languages measured \(en, de, hi, mr\)/],
    ['two languages not measured', ['hi', 'ml', 'ta'], /targets ml, ta are not among the languages measured/],
  ])('targets with %s: INVALID_ARGUMENT naming targets, no stage, nothing written', async (_, targets, message) => {
    const { calls, service } = noWork();
    const req = request({ targets });
    const error = await rejection(service.run(req, ctx));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ setting: 'targets' });
    expect(error.message).toMatch(message);
    expect(calls).toEqual([]);
    expect(() => lstatSync(req.outDir)).toThrow();
  });

  it('English spelled otherwise among the languages is English: refused as a target', async () => {
    const { calls, service } = noWork();
    for (const en of ['EN', 'en-US', 'en_GB']) {
      const req = request({ languages: [en, 'hi'], targets: [en] });
      const error = await rejection(service.run(req, ctx));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details).toMatchObject({ setting: 'targets' });
      expect(error.message).toMatch(/English .* cannot be a target/);
      expect(() => lstatSync(req.outDir)).toThrow();
    }
    expect(calls).toEqual([]);
  });

  it('a study folder that is not ours is refused before any stage and left as it was', async () => {
    const { calls, service } = noWork();
    const dir = fresh('taken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'thesis.docx'), 'years of work');
    const before = snapshot(dir);
    const error = await rejection(service.run(request({ outDir: dir }), ctx));
    expect(error.code).toBe('OUTPUT_EXISTS');
    expect(calls).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
  });
});
