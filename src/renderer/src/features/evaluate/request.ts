// The eval.run request the Evaluate step sends, made from the project's choices: the project's
// model, the step's data, task, languages, preset, limit, few-shot, adapter and output folder. What
// is missing or refused is said per choice, checked by the contract's own schema before sending (the
// backend checks it again).
import { backendContract, type Input } from '../../../../shared/contract';
import type { JobInfo, ProjectEvaluateState } from '../../../../shared/dto';

export type EvalRunRequest = Omit<Input<'eval.run'>, 'jobId'>;

export interface RequestContext {
  /** The project's model folder (empty = none chosen). */
  model: string;
  /** The project's languages, registry codes. */
  projectLanguages: readonly string[];
  /** The adapter the project's finished fine-tune wrote, or null. */
  finetuneAdapter: string | null;
}

/** The adapter the choice names, or why there is none to use. */
export function adapterOf(state: ProjectEvaluateState, finetuneAdapter: string | null): { adapter: string | null } | { problem: string } {
  if (state.adapter === 'none') return { adapter: null };
  if (state.adapter === 'finetune') return finetuneAdapter ? { adapter: finetuneAdapter } : { problem: 'the Fine-tune step has no finished run with an adapter: choose another adapter, or fine-tune first' };
  const path = state.adapterPath.trim();
  return path ? { adapter: path } : { problem: 'type the adapter folder (a PEFT LoRA adapter: adapter_config.json and adapter_model.safetensors)' };
}

/** The languages the choice names: undefined = every language the files hold. */
export function languagesOf(state: ProjectEvaluateState, projectLanguages: readonly string[]): string[] | undefined {
  if (state.languages === 'files') return undefined;
  if (state.languages === 'project') return [...projectLanguages];
  return state.languages;
}

/** The request, or the problems that keep it from being sent (one line each, naming the choice). */
export function evalRequest(state: ProjectEvaluateState, ctx: RequestContext): { request: EvalRunRequest } | { problems: string[] } {
  const problems: string[] = [];
  if (!ctx.model) problems.push('choose a model in the Model step');
  const data = state.data.trim();
  if (!data) problems.push('type the task data: a benchmark file, or a folder of them');
  const adapter = adapterOf(state, ctx.finetuneAdapter);
  if ('problem' in adapter) problems.push(adapter.problem);
  const languages = languagesOf(state, ctx.projectLanguages);
  if (languages !== undefined && languages.length === 0) problems.push("choose at least one language (or every language the files hold)");
  if (problems.length) return { problems };
  const outDir = state.outDir.trim();
  const request: EvalRunRequest = {
    model: ctx.model,
    data,
    ...('adapter' in adapter && adapter.adapter ? { adapter: adapter.adapter } : {}),
    ...(state.task !== 'all' ? { task: state.task } : {}),
    ...(languages ? { languages } : {}),
    preset: state.preset,
    ...(state.limit !== null ? { limit: state.limit } : {}),
    ...(state.fewshot !== null ? { fewshot: state.fewshot } : {}),
    ...(outDir ? { outDir } : {}),
  };
  const parsed = backendContract['eval.run'].input.safeParse(request);
  if (!parsed.success) return { problems: parsed.error.issues.slice(0, 8).map((i) => `${i.path.map(String).join('.') || 'request'}: ${i.message}`) };
  return { request };
}

/** The job to follow after a reload or a reopened project: the project's last evaluation by its id
 * (running or ended: its value or its error), else a running evaluation writing this project's output
 * folder. null: none to follow. */
export function jobToFollow(jobs: readonly JobInfo[], projectJob: string | null, outDir: string): JobInfo | null {
  const evals = jobs.filter((j) => j.method === 'eval.run');
  if (projectJob) {
    const byId = evals.find((j) => j.jobId === projectJob);
    if (byId) return byId;
  }
  const dir = outDir.trim();
  return (dir && evals.find((j) => j.state === 'running' && j.output === dir)) || null;
}
