import { join, resolve } from 'node:path';
import { DIRECTIONS, LORA_MODULES, LOSS_FEATURES, LOSS_SPACES, NORMALISATIONS, REDUCTIONS, type FinetuneResult, type PartialFinetuneSettings } from '../../shared/finetune';
import type { ProgressEvent } from '../../shared/dto';
import { oneOf, optionalInt, optionalNumber, parseIntList, requireOptions, splitList, UsageError, type CliValues } from '../args';
import type { CliCommand } from '../command';
import { printJson } from '../print';

export function settingsFrom(values: CliValues): PartialFinetuneSettings {
  const int = (flag: keyof CliValues) => optionalInt(values[flag] as string | undefined, `--${String(flag)}`);
  const num = (flag: keyof CliValues) => optionalNumber(values[flag] as string | undefined, `--${String(flag)}`);
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const modules = values.modules === undefined ? undefined : splitList(values.modules, '--modules').map((m) => oneOf(m, '--modules', LORA_MODULES)!);
  let watchdog: { threshold: number; steps?: number } | undefined;
  if (values.watchdog !== undefined) {
    const [threshold, steps] = values.watchdog.split(':');
    watchdog = { threshold: optionalNumber(threshold, '--watchdog')!, ...(steps !== undefined ? { steps: optionalInt(steps, '--watchdog')! } : {}) };
  }
  return {
    loss: defined({
      space: oneOf(values.space, '--space', LOSS_SPACES),
      reduction: oneOf(values['loss-reduction'], '--loss-reduction', REDUCTIONS),
      direction: oneOf(values.direction, '--direction', DIRECTIONS),
      normalisation: oneOf(values.normalisation, '--normalisation', NORMALISATIONS),
      features: oneOf(values['loss-features'], '--loss-features', LOSS_FEATURES),
      alpha: num('retention-weight'),
    }),
    lora: defined({
      rank: int('rank'),
      alpha: num('alpha'),
      rslora: values.rslora ? true : undefined,
      modules,
      adaptLayers: values['adapt-layers'] === undefined ? undefined : parseIntList(values['adapt-layers'], '--adapt-layers'),
      lossLayers: values['loss-layers'] === undefined ? undefined : parseIntList(values['loss-layers'], '--loss-layers'),
    }),
    optim: defined({ lr: num('lr'), warmup: int('warmup') }),
    data: defined({ pairs: int('pairs'), passes: int('passes'), heldOut: num('held-out'), batchPairs: int('batch'), batchTokens: int('batch-tokens'), maxTokens: int('max-tokens'), seed: int('seed') }),
    ...(values.steps !== undefined ? { steps: int('steps') } : {}),
    monitor: defined({ evalEvery: int('eval-every'), checkpointEvery: int('checkpoint-every'), patience: int('patience'), watchdog }),
  };
}

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
const n = (v: unknown, digits = 4) => (typeof v === 'number' ? String(Number(v.toPrecision(digits))) : 'n/a');

/** A terminal gets one redrawn progress line; anything else one line per logged step. */
function stepPrinter(api: Parameters<CliCommand['run']>[0]['api']): () => void {
  const tty = process.stderr.isTTY;
  const stop = api.on('progress', (p: ProgressEvent) => {
    const d = p.detail;
    if (p.stage !== 'training' || !d) {
      if (tty) process.stderr.write(`\r\x1b[K${p.stage}: ${p.done}/${p.total}`);
      return;
    }
    if (d.kind === 'eval') {
      const gains = Object.entries(d).filter(([k]) => k.startsWith('gain_')).map(([k, v]) => `${k.slice(5)} ${n(v, 3)} %`).join(', ');
      const line = `eval step ${p.done}: held-out loss ${n(d.heldout_loss)}; gain ${gains}; English retention ${n(d.retention_percent, 4)} % (cos ${n(d.retention_cosine)})`;
      process.stderr.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
      return;
    }
    const elapsed = Number(d.elapsed_s);
    const timing = `${clock(elapsed)} < ${p.etaSeconds === undefined ? '?' : clock(p.etaSeconds)}, ${n(d.tokens_per_s, 4)} tok/s, ${d.rss_mib} MiB`;
    if (tty) {
      const width = 24;
      const filled = Math.round((width * p.done) / Math.max(1, p.total));
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${p.done}/${p.total} loss ${n(d.loss)} lr ${n(d.lr, 3)} ${timing}`);
    } else {
      process.stderr.write(`step ${p.done}/${p.total} loss ${n(d.loss)} (|u-v| ${n(d.term1)}, (u-u_orig)^2 ${n(d.term2)}) lr ${n(d.lr, 3)} grad ${n(d.grad_norm, 3)} ${timing}\n`);
    }
  });
  return () => {
    stop();
    if (tty) process.stderr.write('\r\x1b[K');
  };
}

function printResult(r: FinetuneResult): void {
  const rep = r.report;
  const ci = (c: [number, number] | null) => (c ? ` [${c[0].toFixed(1)}, ${c[1].toFixed(1)}]` : '');
  console.log(`fine-tune ${r.outcome}: ${r.reason}`);
  console.log(`loss: ${r.config.formula.split('\n')[0]}`);
  console.log(`held-out (${rep.segments} segments, loss layers ${rep.layers.join(', ')}; 95 % bootstrap intervals):`);
  for (const [lang, g] of Object.entries(rep.gain_percent)) console.log(`  activation gain ${lang}: ${g.value === null ? 'n/a' : `${g.value.toFixed(2)} %`}${ci(g.ci)}`);
  console.log(`  English retention: ${rep.retention_percent.value === null ? 'n/a' : `${rep.retention_percent.value.toFixed(2)} %`}${ci(rep.retention_percent.ci)}, cosine ${n(rep.retention_cosine.value)}`);
  console.log(`adapter: ${r.adapterDir}`);
  console.log(`report: ${join(r.reportDir, 'report.html')}`);
}

export const finetune: CliCommand = {
  name: 'finetune',
  usage: `  finetune --model DIR --saes DIR --languages en,mr,ml,hi --out DIR [--steps N] [--rank R] [--alpha A]
          [--retention-weight α] [--adapt-layers 0,1,..] [--loss-layers L,..] [--resume [--checkpoint STEP]]
          [--corpus udhr|FILE.tsv] [--limit N] [--lr X] [--warmup N] [--batch PAIRS] [--pairs N] [--passes N]
          [--held-out FRACTION] [--max-tokens N] [--batch-tokens N] [--seed N] [--space sae-codes|sae-preacts|residual] [--loss-reduction mean|max]
          [--direction both|target-only] [--normalisation mean|sum] [--loss-features all|english-active]
          [--modules q_proj,..] [--rslora] [--eval-every N] [--checkpoint-every N] [--patience N]
          [--watchdog LOSS[:STEPS]] [--reduction mean|max] [--merged]
                                            activation-aware LoRA fine-tuning: the PEFT adapter, the step log,
                                            checkpoints and the before/after report in DIR (--merged: DIR/merged too)`,
  check(values) {
    requireOptions(values, 'finetune', ['model', 'saes', 'languages', 'out']);
    splitList(values.languages, '--languages');
    settingsFrom(values);
    oneOf(values.reduction, '--reduction', REDUCTIONS);
    optionalInt(values.checkpoint, '--checkpoint');
    optionalInt(values.limit, '--limit');
    if (values.checkpoint !== undefined && !values.resume) throw new UsageError('--checkpoint picks the checkpoint to resume from; add --resume');
  },
  async run({ api, values }) {
    const out = resolve(values.out!);
    const done = stepPrinter(api);
    const result = await api.finetune
      .run({
        model: resolve(values.model!),
        saes: resolve(values.saes!),
        languages: splitList(values.languages, '--languages'),
        corpus: values.corpus === undefined || values.corpus === 'udhr' ? 'udhr' : resolve(values.corpus),
        limit: optionalInt(values.limit, '--limit'),
        settings: settingsFrom(values),
        outDir: out,
        ...(values.resume ? { resume: true } : {}),
        ...(values.checkpoint !== undefined ? { checkpoint: optionalInt(values.checkpoint, '--checkpoint') } : {}),
        ...(values.reduction !== undefined ? { reduction: oneOf(values.reduction, '--reduction', REDUCTIONS) } : {}),
      })
      .finally(done);
    const merged = values.merged ? await api.model.merge({ model: resolve(values.model!), adapter: result.adapterDir, out: join(out, 'merged') }) : null;
    if (values.json) {
      printJson(merged ? { ...result, merged } : result);
      return;
    }
    printResult(result);
    if (merged) console.log(`merged model: ${merged.outDir}`);
  },
};
