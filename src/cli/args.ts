// Argument parsing shared by the CLI commands: one option table, typed values, usage errors (exit 2).
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

export const OPTIONS = {
  languages: { type: 'string' },
  out: { type: 'string' },
  tokenizer: { type: 'string' },
  tier: { type: 'string' },
  model: { type: 'string' },
  text: { type: 'string' },
  'token-ids': { type: 'string' },
  layers: { type: 'string' },
  hooks: { type: 'string' },
  logits: { type: 'boolean', default: false },
  'no-bos': { type: 'boolean', default: false },
  arch: { type: 'string' },
  preset: { type: 'string' },
  dtype: { type: 'string' },
  seed: { type: 'string' },
  saes: { type: 'string' },
  adapter: { type: 'string' },
  corpus: { type: 'string' },
  limit: { type: 'string' },
  reduction: { type: 'string' },
  features: { type: 'string' },
  bootstrap: { type: 'string' },
  'top-features': { type: 'string' },
  'keep-features': { type: 'string' },
  precision: { type: 'string' },
  'gate-segments': { type: 'string' },
  'gate-max-mean-diff': { type: 'string' },
  'gate-max-gap-diff': { type: 'string' },
  'gate-min-overlap': { type: 'string' },
  'include-bos': { type: 'boolean', default: false },
  resume: { type: 'boolean', default: false },
  steps: { type: 'string' },
  width: { type: 'string' },
  architecture: { type: 'string' },
  db: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'no-token': { type: 'boolean', default: false },
  rank: { type: 'string' },
  alpha: { type: 'string' },
  'retention-weight': { type: 'string' },
  'adapt-layers': { type: 'string' },
  'loss-layers': { type: 'string' },
  modules: { type: 'string' },
  rslora: { type: 'boolean', default: false },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  batch: { type: 'string' },
  'batch-tokens': { type: 'string' },
  'max-tokens': { type: 'string' },
  pairs: { type: 'string' },
  passes: { type: 'string' },
  'held-out': { type: 'string' },
  space: { type: 'string' },
  'loss-reduction': { type: 'string' },
  direction: { type: 'string' },
  normalisation: { type: 'string' },
  'loss-features': { type: 'string' },
  'eval-every': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  checkpoint: { type: 'string' },
  patience: { type: 'string' },
  watchdog: { type: 'string' },
  merged: { type: 'boolean', default: false },
  data: { type: 'string' },
  task: { type: 'string' },
  fewshot: { type: 'string' },
  analysis: { type: 'string' },
  eval: { type: 'string' },
  metric: { type: 'string' },
  measure: { type: 'string' },
  adapted: { type: 'boolean', default: false },
  'adapt-layers-sets': { type: 'string' },
  'eval-data': { type: 'string' },
  'eval-languages': { type: 'string' },
  'eval-limit': { type: 'string' },
  split: { type: 'string' },
  in: { type: 'string' },
  target: { type: 'string', multiple: true },
  targets: { type: 'string' },
  choices: { type: 'string' },
  'source-language': { type: 'string' },
  'target-token': { type: 'string' },
  beams: { type: 'string' },
  'max-length': { type: 'string' },
  references: { type: 'string' },
  language: { type: 'string' },
  export: { type: 'string' },
  api: { type: 'string' },
  source: { type: 'string' },
  'model-id': { type: 'string' },
  search: { type: 'string' },
  'from-run': { type: 'string' },
  top: { type: 'string' },
  threshold: { type: 'string' },
  rule: { type: 'string' },
  maximum: { type: 'string' },
  window: { type: 'string' },
  sae: { type: 'string' },
  phrases: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type CliValues = ReturnType<typeof parseCommandLine>['values'];

export function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

export function splitList(value: string | undefined, flag: string): string[] {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} needs a comma-separated list, e.g. ${flag} en,hi,ml`);
  return items;
}

export function parseIntList(value: string, flag: string): number[] {
  return splitList(value, flag).map((item) => {
    if (!/^\d+$/.test(item)) throw new UsageError(`${flag}: "${item}" is not a non-negative integer`);
    return Number(item);
  });
}

/** One non-negative integer, or undefined when the flag is absent (a list is refused: taking its
 * first item would run with a number the user did not mean). */
export function optionalInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const items = parseIntList(value, flag);
  if (items.length > 1) throw new UsageError(`${flag} takes one whole number, not a list ("${value}")`);
  return items[0];
}

export function requireOptions(values: CliValues, command: string, flags: (keyof CliValues)[]): void {
  const missing = flags.filter((f) => values[f] === undefined);
  if (missing.length) throw new UsageError(`${command} needs ${missing.map((f) => `--${String(f)}`).join(', ')}`);
}

export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function layerList(value: string | undefined): 'all' | number[] {
  return value === undefined || value === 'all' ? 'all' : parseIntList(value, '--layers');
}

/** A finite number, or undefined when the flag is absent. */
export function optionalNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: "${value}" is not a number`);
  return n;
}
