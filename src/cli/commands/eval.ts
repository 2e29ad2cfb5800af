import { join, resolve } from 'node:path';
import { EVAL_PRESET_NAMES, EVAL_TASKS, type EvalResult } from '../../shared/eval';
import { oneOf, optionalInt, requireOptions, splitList } from '../args';
import type { CliCommand } from '../command';
import { printJson, progressPrinter } from '../print';

const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(2) : 'n/a');

function printEval(r: EvalResult): void {
  console.log(`${r.preset}${r.fewshot ? `, ${r.fewshot}-shot` : ''}: ${r.cache.items} items (${r.cache.cached} from the cache, ${r.cache.scored} scored) in ${r.seconds} s`);
  console.log(r.presetNote);
  const head = ['task', 'lang', 'n', 'acc %', '±', 'acc_norm %', '±'];
  if (r.adapter) head.push('acc after %', 'Δ acc (95 % CI)', 'acc_norm after %', 'Δ acc_norm (95 % CI)');
  console.log(head.join('\t'));
  for (const t of r.results) {
    const row = [t.task, t.language, String(t.n), pct(t.before.acc), pct(t.before.acc_stderr), pct(t.before.acc_norm), pct(t.before.acc_norm_stderr)];
    if (t.after && t.difference) {
      const d = (x: { difference: number; ci: [number, number] | null }) => `${pct(x.difference)}${x.ci ? ` [${pct(x.ci[0])}, ${pct(x.ci[1])}]` : ''}`;
      row.push(pct(t.after.acc), d(t.difference.acc), pct(t.after.acc_norm), d(t.difference.acc_norm));
    }
    console.log(row.join('\t'));
  }
  if (r.outDir) console.log(`results: ${join(r.outDir, 'results.json')}; items: ${join(r.outDir, 'items.jsonl')}`);
}

export const evaluate: CliCommand = {
  name: 'eval',
  usage: `  eval --model DIR --data PATH [--adapter DIR] [--task arc|hellaswag|mmlu|mc] [--languages ml,hi,...]
          [--preset lm-eval-okapi] [--limit N] [--fewshot N] [--bootstrap N] [--out DIR]
                                            multiple-choice benchmarks scored as lm-evaluation-harness does
                                            (acc, acc_norm, stderr; with --adapter: before, after, paired difference)`,
  check(values) {
    requireOptions(values, 'eval', ['model', 'data']);
    oneOf(values.task, '--task', EVAL_TASKS);
    oneOf(values.preset, '--preset', EVAL_PRESET_NAMES);
    for (const flag of ['limit', 'fewshot', 'bootstrap', 'seed'] as const) optionalInt(values[flag], `--${flag}`);
    if (values.languages !== undefined) splitList(values.languages, '--languages');
  },
  async run({ api, values }) {
    const done = progressPrinter(api);
    const result = await api.eval
      .run({
        model: resolve(values.model!),
        data: resolve(values.data!),
        ...(values.adapter !== undefined ? { adapter: resolve(values.adapter) } : {}),
        ...(values.task !== undefined ? { task: oneOf(values.task, '--task', EVAL_TASKS) } : {}),
        ...(values.languages !== undefined ? { languages: splitList(values.languages, '--languages') } : {}),
        ...(values.preset !== undefined ? { preset: oneOf(values.preset, '--preset', EVAL_PRESET_NAMES) } : {}),
        ...(values.limit !== undefined ? { limit: optionalInt(values.limit, '--limit') } : {}),
        ...(values.fewshot !== undefined ? { fewshot: optionalInt(values.fewshot, '--fewshot') } : {}),
        ...(values.bootstrap !== undefined ? { bootstrap: optionalInt(values.bootstrap, '--bootstrap') } : {}),
        ...(values.seed !== undefined ? { seed: optionalInt(values.seed, '--seed') } : {}),
        ...(values.out !== undefined ? { outDir: resolve(values.out) } : {}),
      })
      .finally(done);
    if (values.json) printJson(result);
    else printEval(result);
  },
};
