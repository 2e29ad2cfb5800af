// The eval.run request made from the Evaluate step's choices: every choice maps to its field, what
// is missing is named per choice (never sent), values the contract refuses are named by field, and
// a reload follows the project's own job first.
import { describe, expect, it } from 'vitest';
import type { JobInfo, ProjectEvaluateState } from '../../../../shared/dto';
import { INITIAL_EVALUATE } from '../../state/wizard';
import { evalRequest, jobToFollow, type RequestContext } from './request';

const ctx: RequestContext = { model: '/models/demo', projectLanguages: ['en', 'hi'], finetuneAdapter: '/runs/ft/adapter' };
const state = (over: Partial<ProjectEvaluateState>): ProjectEvaluateState => ({ ...INITIAL_EVALUATE, data: '/data/mc', ...over });
const problems = (s: ProjectEvaluateState, c = ctx) => {
  const made = evalRequest(s, c);
  return 'problems' in made ? made.problems : [];
};

describe('Evaluate request', () => {
  it("defaults: the project's model and languages, every task, the lm-eval Okapi preset, no adapter, no output", () => {
    // No few-shot count: the preset's own default (the backend applies it per task).
    expect(evalRequest(state({}), ctx)).toEqual({ request: { model: '/models/demo', data: '/data/mc', languages: ['en', 'hi'], preset: 'lm-eval-okapi' } });
    const original = evalRequest(state({ preset: 'okapi-original', fewshot: 0 }), ctx);
    expect('request' in original && [original.request.preset, original.request.fewshot]).toEqual(['okapi-original', 0]);
  });

  it('maps each choice: task, every language of the files or a chosen list, limit, few-shot, output folder (trimmed)', () => {
    const made = evalRequest(state({ task: 'mc', languages: ['hi'], limit: 4, fewshot: 2, outDir: ' /out/e1 ' }), ctx);
    expect(made).toEqual({ request: { model: '/models/demo', data: '/data/mc', task: 'mc', languages: ['hi'], preset: 'lm-eval-okapi', limit: 4, fewshot: 2, outDir: '/out/e1' } });
    const files = evalRequest(state({ languages: 'files' }), ctx);
    expect('request' in files && 'languages' in files.request).toBe(false);
  });

  it("takes the fine-tune's adapter or a typed folder, and says why when there is none", () => {
    const ft = evalRequest(state({ adapter: 'finetune' }), ctx);
    expect('request' in ft && ft.request.adapter).toBe('/runs/ft/adapter');
    const typed = evalRequest(state({ adapter: 'path', adapterPath: ' /a/peft ' }), ctx);
    expect('request' in typed && typed.request.adapter).toBe('/a/peft');
    // The typed path is kept in the project but not used while another choice is made.
    const none = evalRequest(state({ adapter: 'none', adapterPath: '/a/peft' }), ctx);
    expect('request' in none && 'adapter' in none.request).toBe(false);
    expect(problems(state({ adapter: 'finetune' }), { ...ctx, finetuneAdapter: null })).toEqual([expect.stringContaining('the Fine-tune step has no finished run')]);
    expect(problems(state({ adapter: 'path', adapterPath: '  ' }))).toEqual([expect.stringContaining('type the adapter folder')]);
  });

  it('names every missing choice at once: model, data, languages', () => {
    const found = problems(state({ data: ' ', languages: [] }), { ...ctx, model: '' });
    expect(found).toHaveLength(3);
    expect(found[0]).toContain('Model step');
    expect(found[1]).toContain('task data');
    expect(found[2]).toContain('at least one language');
    expect(problems(state({ languages: 'project' }), { ...ctx, projectLanguages: [] })).toEqual([expect.stringContaining('at least one language')]);
  });

  it("names a value the contract refuses by its field (over-long path, bad language code, out-of-range numbers)", () => {
    expect(problems(state({ data: `/${'x'.repeat(5000)}` }))[0]).toMatch(/^data: /);
    expect(problems(state({ languages: ['not a code!'] }))[0]).toMatch(/^languages\.0: /);
    expect(problems(state({ limit: 0 }))[0]).toMatch(/^limit: /);
    expect(problems(state({ fewshot: 101 }))[0]).toMatch(/^fewshot: /);
  });

  it("follows the project's job by id (running or ended), else a running evaluation writing the output folder", () => {
    const job = (jobId: string, state: JobInfo['state'], output: string | null, method = 'eval.run') => ({ jobId, method, state, output }) as JobInfo;
    const jobs = [job('a', 'done', '/out'), job('b', 'running', '/out'), job('c', 'running', '/other', 'finetune.run')];
    expect(jobToFollow(jobs, 'a', '/out')?.jobId).toBe('a');
    expect(jobToFollow(jobs, null, '/out')?.jobId).toBe('b');
    expect(jobToFollow(jobs, 'gone', ' /out ')?.jobId).toBe('b');
    expect(jobToFollow(jobs, null, '/other')).toBeNull();
    expect(jobToFollow(jobs, null, '')).toBeNull();
    expect(jobToFollow(jobs, 'c', '')).toBeNull();
  });
});
