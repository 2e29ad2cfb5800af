// Multiple-choice scoring throughput (issue 14): items per second of the whole `eval.run` path
// (createBackend + the typed API: reading the task file, the model fingerprint, prompts, pairs
// encoded through the tokenizer worker, LoglikScorer on the compute worker, metrics, the output
// folder) against lm-evaluation-harness with HF transformers (bench/peer/lm_eval_mc.py, HFLM
// float32, batch size 8, the harness's own Okapi ARC task config) on the same model folder, the
// same items and the same CPU, in the same run (one after the other, never concurrently).
//
// Items: `--items` (40) generated ARC-like 4-choice items, English, in the alexandrainst layout
// (<dir>/m_arc/data/en/test.jsonl: id, instruction, option_a..e, answer): questions of 32-46
// words (about 40-60 tokens with "Question: ...\nAnswer:"), choices of 2-7 words (about 3-10
// tokens); the token lengths actually scored are reported.
//
// Ours runs in a fresh child process with a fresh SQLite file: run 1 is eval.run on it as a user's
// first evaluation of this model (the weight files are fingerprinted, sha256 of ~10.5 GB, once per
// file identity; the tokenizer worker loads tokenizer.json at the first encode, inside scoring);
// with `--runs 2` or more the evaluation cache (eval_items) is emptied and eval.run scores every
// item again with the fingerprints remembered: every later evaluation's cost. The summary's figures
// are the last run's (its whole-path time without the fingerprint). Each run's phases come
// from its progress events (timestamped on arrival): fingerprint, scorer load (from the last event
// before scoring to the first scoring event: the graph is built and the session loaded between
// them), scoring (first to last scoring event: every pair encoded by the tokenizer worker and
// scored, chunk by chunk, what items/s is computed from), the rest (metrics, results folder).
// The peer's loglikelihood phase is the same work (lm.loglikelihood: encoding the pairs and the
// forwards); its model load is reported apart. Both sides' per-item log-likelihoods are compared
// (max absolute difference) and so are their per-item acc and acc_norm.
//
// Options (after `npm run bench -- eval`): --items 40, --runs 1, --model full|tiny (tiny: the 4-layer random
// Gemma-2 preset with the byte-level tokenizer, made next to the full one; for a quick check of
// the whole bench), --batch-size 8 (the peer's), --no-peer. Knobs as bench/forward.ts: BENCH_DIR,
// BENCH_PYTHON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createBackend } from '../src/main/backend/backend';
import { serveConnection } from '../src/main/backend/server';
import { readMcData } from '../src/main/data/mc/read';
import { encodePairs } from '../src/main/eval/encode-pairs';
import { lmEvalOkapiDoc, TARGET_DELIMITER } from '../src/main/eval/prompts';
import { openModelFolder, type ModelFolder } from '../src/main/models/model';
import { makeRandomModel } from '../src/main/models/random-model';
import { packageRoot } from '../src/main/package-root';
import { createApi } from '../src/shared/client';
import type { EvalItemLine } from '../src/shared/eval';
import { createTransportPair } from '../src/shared/rpc';
import { ensureModel, forwardFlops, modelDir, peerPython } from './forward';
import { CONTENDED_PCT, cpuSnapshot, emit, machine, othersCpuPct } from './machine';

export const EVAL_CHILD = '__eval-child';

const DATA_SEED = 14;
const PEER_THREADS = 2;

interface Options {
  items: number;
  model: 'full' | 'tiny';
  batchSize: number;
  runs: number;
  peer: boolean;
}

function usage(message: string): never {
  throw new Error(`${message}\nusage: npm run bench -- eval [--items 40] [--runs 1] [--model full|tiny] [--batch-size 8] [--no-peer]`);
}

export function parseOptions(argv: readonly string[]): Options {
  const o: Options = { items: 40, model: 'full', batchSize: 8, runs: 1, peer: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    const int = (s: string, name: string, min: number) => {
      if (!/^\d+$/.test(s) || Number(s) < min) usage(`${name} must be a whole number ≥ ${min}; got ${JSON.stringify(s)}`);
      return Number(s);
    };
    if (flag === '--items') o.items = int(value(), '--items', 1);
    else if (flag === '--runs') o.runs = int(value(), '--runs', 1);
    else if (flag === '--batch-size') o.batchSize = int(value(), '--batch-size', 1);
    else if (flag === '--model') {
      const m = value();
      if (m !== 'full' && m !== 'tiny') usage(`--model must be full or tiny; got ${JSON.stringify(m)}`);
      o.model = m;
    } else if (flag === '--no-peer') o.peer = false;
    else usage(`unknown option ${JSON.stringify(flag)}`);
  }
  return o;
}

// ------------------------------------------------------------------------------------------------
// Items: ARC-like science questions from a fixed word list, deterministic in the seed.

const SUBJECTS = ['a student', 'a scientist', 'a farmer', 'a class', 'a group of students', 'a teacher', 'an engineer', 'a gardener', 'a doctor', 'a team of researchers'];
const VERBS = ['observed', 'measured', 'recorded', 'compared', 'tested', 'noticed', 'collected', 'heated', 'cooled', 'mixed', 'placed', 'watched'];
const NOUNS = ['plants', 'water', 'a metal spoon', 'the soil', 'sunlight', 'a magnet', 'ice cubes', 'a glass jar', 'the temperature', 'seeds', 'rocks', 'the air', 'a battery', 'salt', 'sand', 'a small ball', 'the shadow', 'clouds', 'a thermometer', 'leaves'];
const PLACES = ['in the classroom', 'near a window', 'in a dark room', 'outside the school', 'on a sunny day', 'during the winter', 'at the beach', 'in the garden', 'over several weeks', 'in a laboratory'];
const LINKS = ['and then', 'after that', 'because', 'while', 'so that', 'before'];
const QUESTIONS = ['Which of the following best explains the result?', 'What is the most likely reason for this change?', 'Which statement describes what happened?', 'What should be done next to test the idea?', 'Which property of the material was being tested?', 'What conclusion is best supported by these observations?'];
const ANSWER_WORDS = ['heat', 'energy', 'light', 'water', 'gravity', 'friction', 'the sun', 'evaporation', 'growth', 'pressure', 'the roots', 'melting', 'the magnet', 'sound waves', 'a chemical change', 'more oxygen', 'less time', 'the weather', 'the size', 'a new habitat', 'moves faster', 'gets warmer', 'turns into gas', 'stays the same', 'becomes smaller', 'absorbs', 'reflects', 'because it', 'of the', 'in the', 'from the'];

function lcg(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 4294967296) * n);
  };
}

const words = (s: string) => s.split(' ').length;

/** One ARC-like row: a question of 32-46 words, four choices of 2-7 words, a gold letter. */
function makeItem(i: number, pick: (n: number) => number): Record<string, string> {
  const from = <T>(xs: readonly T[]) => xs[pick(xs.length)];
  const target = 32 + pick(15);
  const sentences: string[] = [];
  let n = 0;
  while (n < target - 9) {
    const s = `${from(SUBJECTS)} ${from(VERBS)} ${from(NOUNS)} ${from(PLACES)} ${from(LINKS)} ${from(VERBS)} ${from(NOUNS)}`;
    sentences.push(s.charAt(0).toUpperCase() + s.slice(1) + '.');
    n += words(s);
  }
  const choice = () => {
    const want = 2 + pick(6);
    const parts: string[] = [];
    while (parts.join(' ').split(' ').length < want) parts.push(from(ANSWER_WORDS));
    return parts.join(' ').split(' ').slice(0, want).join(' ');
  };
  const [a, b, c, d] = [choice(), choice(), choice(), choice()];
  return { id: `bench-${i}`, instruction: `${sentences.join(' ')} ${from(QUESTIONS)}`, option_a: a, option_b: b, option_c: c, option_d: d, option_e: '', answer: 'ABCD'[pick(4)] };
}

/** <BENCH_DIR>/eval-bench/items-N/m_arc/data/en/test.jsonl (rewritten each run: same bytes). */
function writeItems(count: number): string {
  const file = join(dirname(modelDir()), 'eval-bench', `items-${count}`, 'm_arc', 'data', 'en', 'test.jsonl');
  mkdirSync(dirname(file), { recursive: true });
  const pick = lcg(DATA_SEED);
  writeFileSync(file, Array.from({ length: count }, (_, i) => JSON.stringify(makeItem(i, pick))).join('\n') + '\n');
  return file;
}

// ------------------------------------------------------------------------------------------------
// The model folder.

const TINY_SEED = 0;

async function ensureTinyModel(): Promise<ModelFolder> {
  const dir = join(dirname(modelDir()), 'gemma-2-tiny-f32');
  if (existsSync(join(dir, 'config.json'))) {
    const folder = openModelFolder(dir);
    if (folder.config.numLayers === 4 && folder.info.tokenizer) return folder;
    throw new Error(`${dir} exists but is not the tiny random Gemma-2 folder; remove it or set BENCH_DIR`);
  }
  await makeRandomModel({ arch: 'gemma2', preset: 'tiny', dtype: 'f32', out: dir, seed: TINY_SEED });
  return openModelFolder(dir);
}

/** The full-size folder of bench/forward.ts; it carries the bundled Gemma tokenizer (vocabulary
 * 256000 = the model's), which makeRandomModel writes beside the weights. */
async function benchModel(which: Options['model']): Promise<{ folder: ModelFolder; madeS: number | null }> {
  if (which === 'tiny') return { folder: await ensureTinyModel(), madeS: null };
  const made = await ensureModel();
  if (!made.folder.info.tokenizer) throw new Error(`${made.folder.path} has no tokenizer.json; remove the folder so that it is made again with the bundled Gemma tokenizer`);
  return made;
}

// ------------------------------------------------------------------------------------------------
// Ours, in a fresh child process.

interface ChildInput {
  model: string;
  data: string;
  runs: number;
}

interface Phase {
  fingerprint_ms: number | null;
  load_ms: number;
  score_ms: number;
  rest_ms: number;
  total_ms: number;
  others_cpu_pct: number | null;
  score_others_cpu_pct: number | null;
  /** CPU seconds this process (all its threads) spent in the scoring phase: the work done, less
   * sensitive to other processes than the wall time (but it counts spin-waiting threads). */
  score_cpu_s: number | null;
  cache: { items: number; cached: number; scored: number };
}

interface ChildResult {
  runs: Phase[];
  items: EvalItemLine[];
  acc: number;
  acc_norm: number;
  lengths: [number, number][];
  max_rss_bytes: number;
}

interface Stamp {
  stage: string;
  done: number;
  total: number;
  t: number;
  snap: ReturnType<typeof cpuSnapshot>;
}

const SCORING = 'scoring the base model';

/** A run's phases from its progress events (see the header). */
function phases(stamps: Stamp[], t0: number, t1: number, before: Stamp['snap'], after: Stamp['snap']): Omit<Phase, 'cache'> {
  const scoring = stamps.filter((s) => s.stage === SCORING);
  if (scoring.length === 0) throw new Error('eval.run sent no scoring progress: was anything scored?');
  const first = scoring[0];
  const last = scoring.at(-1)!;
  const beforeScoring = stamps.filter((s) => s.t < first.t && s.stage !== SCORING).at(-1);
  const fp = stamps.filter((s) => s.stage.startsWith('fingerprinting'));
  return {
    fingerprint_ms: fp.length ? Math.round(fp.at(-1)!.t - fp[0].t) : null,
    load_ms: Math.round(first.t - (beforeScoring?.t ?? t0)),
    score_ms: Math.round(last.t - first.t),
    rest_ms: Math.round(t1 - last.t),
    total_ms: Math.round(t1 - t0),
    others_cpu_pct: othersCpuPct(before, after),
    score_others_cpu_pct: othersCpuPct(first.snap, last.snap),
    score_cpu_s: first.snap && last.snap ? round(last.snap.own - first.snap.own, 1) : null,
  };
}

export async function evalChild(inputFile: string): Promise<void> {
  const input = JSON.parse(readFileSync(inputFile, 'utf8')) as ChildInput;
  const work = mkdtempSync(join(dirname(inputFile), 'run-'));
  const backend = createBackend({ dbPath: join(work, 'bench.db') });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const api = createApi(client);
  try {
    const runs: Phase[] = [];
    let items: EvalItemLine[] = [];
    let acc = NaN;
    let accNorm = NaN;
    for (let r = 0; r < input.runs; r++) {
      // Run 1 on the fresh database; later runs with the item cache emptied, fingerprints kept.
      if (r > 0) backend.db.prepare('DELETE FROM eval_items').run();
      const stamps: Stamp[] = [];
      const stop = api.on('progress', (p) => stamps.push({ stage: p.stage, done: p.done, total: p.total, t: performance.now(), snap: cpuSnapshot() }));
      const outDir = join(work, `out-${r + 1}`);
      const before = cpuSnapshot();
      const t0 = performance.now();
      const result = await api.eval.run({ model: input.model, data: input.data, task: 'arc', languages: ['en'], outDir, bootstrap: 0 }).finally(stop);
      const t1 = performance.now();
      const phase = { ...phases(stamps, t0, t1, before, cpuSnapshot()), cache: result.cache };
      if (result.cache.cached !== 0) throw new Error(`run ${r + 1}: ${result.cache.cached} items came from the cache; the bench measures scoring`);
      runs.push(phase);
      process.stderr.write(`eval run ${r + 1}: ${JSON.stringify(phase)}\n`);
      items = readFileSync(join(outDir, 'items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalItemLine);
      acc = result.results[0].before.acc;
      accNorm = result.results[0].before.acc_norm;
    }
    const maxRss = process.resourceUsage().maxRSS * 1024; // KiB; the compute and tokenizer workers are threads of this process
    // The token lengths scored (context, continuation), encoded the product's way, after the timings.
    const folder = openModelFolder(input.model);
    const data = await readMcData(input.data, { task: 'arc', languages: ['en'] });
    const pairs = data.items.flatMap((it) => {
      const p = lmEvalOkapiDoc(it);
      return p.choices.map((c) => ({ context: p.context, continuation: `${TARGET_DELIMITER}${c}` }));
    });
    const encoded = await encodePairs(backend.tokenizers, folder.path, folder.config, pairs);
    const lengths = encoded.map((e) => [e.context.length, e.continuation.length] as [number, number]);
    console.log(JSON.stringify({ runs, items, acc, acc_norm: accNorm, lengths, max_rss_bytes: maxRss } satisfies ChildResult));
  } finally {
    api.dispose();
    await backend.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function runChild(inputFile: string): ChildResult {
  const child = spawnSync(process.execPath, [process.argv[1], EVAL_CHILD, inputFile], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`eval child exited with ${child.status ?? child.signal}${child.signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

// ------------------------------------------------------------------------------------------------
// The peer.

interface PeerResult {
  lm_eval: string;
  torch: string;
  transformers: string;
  threads: number;
  batch_size: number;
  load_ms: number;
  loglik_ms: number;
  loglik_cpu_s: number | null;
  evaluate_ms: number;
  others_cpu_pct: number | null;
  requests: number;
  lengths: [number, number][];
  items: { doc_id: number; loglikelihoods: number[]; is_greedy: boolean[]; acc: number; acc_norm: number }[];
  acc: number;
  acc_norm: number;
  max_rss_bytes: number;
}

function runPeer(input: { model: string; data: string; batch_size: number; threads: number }, dir: string): { result: PeerResult | null; skipped?: string } {
  const python = peerPython();
  if (!python) return { result: null, skipped: 'no Python with torch and transformers (set BENCH_PYTHON)' };
  const probe = spawnSync(python, ['-c', 'import lm_eval'], { encoding: 'utf8' });
  if (probe.status !== 0) return { result: null, skipped: `${python} has no lm_eval (pip install lm-eval)` };
  const file = join(dir, 'peer-input.json');
  writeFileSync(file, JSON.stringify(input));
  const peer = spawnSync(python, [join(packageRoot(), 'bench', 'peer', 'lm_eval_mc.py'), file], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
  if (peer.status !== 0) return { result: null, skipped: `peer failed (${peer.status ?? peer.signal}): ${peer.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return { result: JSON.parse(peer.stdout.trim().split('\n').at(-1)!) as PeerResult };
}

// ------------------------------------------------------------------------------------------------

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The CPU's matrix features (what decides f32 GEMM speed), from /proc/cpuinfo. */
function matrixFeatures(): string {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return flags.filter((f) => /^(avx512|amx|avx_vnni|avx2$|fma$)/.test(f)).sort().join(' ');
  } catch {
    return '';
  }
}

/**
 * Matmul FLOPs of the scored forwards: each request reads (context + continuation)[:-1], n tokens,
 * through the decoder (forwardFlops, B = 1, T = n), plus the unembedding 2·d·V per position that
 * gets logits: ours only the continuation's positions, HF every position. Padding is not counted.
 */
function scoringFlops(folder: ModelFolder, lengths: [number, number][]): { decoder: number; logitsOurs: number; logitsHf: number } {
  const c = folder.config;
  let decoder = 0;
  let ours = 0;
  let hf = 0;
  for (const [ctx, cont] of lengths) {
    const n = ctx + cont - 1;
    decoder += forwardFlops(folder, 1, n);
    ours += cont * 2 * c.hiddenSize * c.vocabSize;
    hf += n * 2 * c.hiddenSize * c.vocabSize;
  }
  return { decoder, logitsOurs: ours, logitsHf: hf };
}

export async function benchEval(): Promise<Record<string, unknown>> {
  const started = performance.now();
  const o = parseOptions(process.argv.slice(3));
  const m = machine();
  const features = matrixFeatures();
  emit({ bench: 'eval', machine: m, matrix_features: features, options: o });
  const { folder, madeS } = await benchModel(o.model);
  const data = writeItems(o.items);
  const dir = dirname(dirname(dirname(dirname(data))));
  emit({ bench: 'eval', step: 'inputs', model: folder.path, made_s: madeS && round(madeS, 1), data, items: o.items });

  const inputFile = join(dir, 'child-input.json');
  writeFileSync(inputFile, JSON.stringify({ model: folder.path, data, runs: o.runs } satisfies ChildInput));
  const ours = runChild(inputFile);
  const first = ours.runs[0];
  const last = ours.runs.at(-1)!;
  /** eval.run without the once-per-model fingerprint (what every later evaluation costs). */
  const wholeMs = last.total_ms - (last.fingerprint_ms ?? 0);
  emit({ bench: 'eval', step: 'ours', runs: ours.runs, acc: ours.acc, acc_norm: ours.acc_norm, max_rss_mb: mb(ours.max_rss_bytes) });

  const peer = o.peer ? runPeer({ model: folder.path, data, batch_size: o.batchSize, threads: PEER_THREADS }, dir) : { result: null, skipped: '--no-peer' };
  const p = peer.result;
  if (p) emit({ bench: 'eval', step: 'peer', ...p, items: undefined, lengths: undefined });
  else emit({ bench: 'eval', step: 'peer', skipped: peer.skipped });

  // Agreement, item by item (doc ids are the line order on both sides).
  let maxDiff = 0;
  let accDisagree = 0;
  let accNormDisagree = 0;
  let greedyDisagree = 0;
  let lengthsDiffer = false;
  if (p) {
    const theirs = new Map(p.items.map((it) => [it.doc_id, it]));
    for (const it of ours.items) {
      const t = theirs.get(it.doc_id);
      if (!t || t.loglikelihoods.length !== it.loglikelihoods.length) throw new Error(`item ${it.doc_id}: the peer scored ${t ? t.loglikelihoods.length : 'no'} choices, we ${it.loglikelihoods.length}`);
      it.loglikelihoods.forEach((ll, k) => (maxDiff = Math.max(maxDiff, Math.abs(ll - t.loglikelihoods[k]))));
      if (Number(it.pred === it.gold) !== t.acc) accDisagree++;
      if (Number(it.pred_norm === it.gold) !== t.acc_norm) accNormDisagree++;
      if (it.is_greedy.some((g, k) => g !== t.is_greedy[k])) greedyDisagree++;
    }
    const sorted = (xs: [number, number][]) => xs.map((x) => x.join(',')).sort().join(';');
    lengthsDiffer = sorted(p.lengths) !== sorted(ours.lengths);
  }

  const n = o.items;
  const flops = scoringFlops(folder, ours.lengths);
  const itemsPerS = (ms: number) => round(n / (ms / 1000), 3);
  const scoreMs = last.score_ms;
  const tokens = ours.lengths.reduce((s, [c, k]) => s + c + k - 1, 0);
  const others = [...ours.runs.map((r) => r.score_others_cpu_pct), p?.others_cpu_pct].map((x) => x ?? 0);
  const worst = Math.max(...others);
  const ratio = p ? p.loglik_ms / scoreMs : null;
  return {
    machine: m.cpu,
    matrix_features: features,
    cores: m.cores,
    memory_gib: m.memory_gib,
    model: `random ${o.model === 'full' ? 'Gemma-2-2B' : 'tiny Gemma-2'}, f32 (${folder.config.numLayers} layers, vocabulary ${folder.config.vocabSize})`,
    items: n,
    requests: ours.lengths.length,
    mean_context_tokens: round(mean(ours.lengths.map((l) => l[0])), 1),
    mean_continuation_tokens: round(mean(ours.lengths.map((l) => l[1])), 2),
    forward_tokens: tokens,
    // The headline: the scoring phase (encode + score every pair; the model loaded), last run.
    items_per_s: itemsPerS(scoreMs),
    score_ms: scoreMs,
    score_ms_runs: ours.runs.map((r) => r.score_ms),
    score_cpu_s: last.score_cpu_s,
    load_ms: last.load_ms,
    eval_run_ms: last.total_ms,
    eval_run_ms_without_fingerprint: wholeMs,
    eval_run_items_per_s: itemsPerS(wholeMs),
    fingerprint_ms_first_run: first.fingerprint_ms,
    ...(ours.runs.length > 1 ? { fingerprint_ms_later_runs: last.fingerprint_ms } : {}),
    tokens_per_s: round(tokens / (scoreMs / 1000), 1),
    decoder_gflops: round(flops.decoder / (scoreMs * 1e6), 1),
    flops_note: `matmul FLOPs of the scored forwards: decoder ${round(flops.decoder / 1e12, 2)} TFLOP; unembedding ours (continuation positions only) ${round(flops.logitsOurs / 1e12, 3)} TFLOP, HF (every position) ${round(flops.logitsHf / 1e12, 2)} TFLOP`,
    max_rss_mb: mb(ours.max_rss_bytes),
    acc: ours.acc,
    acc_norm: ours.acc_norm,
    peer: p ? `lm-evaluation-harness ${p.lm_eval} (HFLM, float32, batch_size ${p.batch_size}), torch ${p.torch}, transformers ${p.transformers}, ${p.threads} threads` : null,
    peer_items_per_s: p && itemsPerS(p.loglik_ms),
    peer_loglik_ms: p?.loglik_ms,
    peer_loglik_cpu_s: p?.loglik_cpu_s,
    // Work per item in CPU seconds, the peer's over ours: the comparison least moved by other
    // processes on a shared machine (spin-waiting threads count on both sides).
    cpu_speedup_vs_peer: p && p.loglik_cpu_s !== null && last.score_cpu_s ? round(p.loglik_cpu_s / last.score_cpu_s, 3) : null,
    peer_load_ms: p?.load_ms,
    peer_evaluate_ms: p?.evaluate_ms,
    peer_whole_items_per_s: p && itemsPerS(p.load_ms + p.evaluate_ms),
    peer_tokens_per_s: p && round(tokens / (p.loglik_ms / 1000), 1),
    peer_max_rss_mb: p && mb(p.max_rss_bytes),
    peer_acc: p?.acc,
    peer_acc_norm: p?.acc_norm,
    speedup_vs_peer: ratio && round(ratio, 3),
    // Whole path against whole path: our eval.run (model load included, the once-per-model
    // fingerprint not) over HFLM load + simple_evaluate.
    whole_speedup_vs_peer: p && round((p.load_ms + p.evaluate_ms) / wholeMs, 3),
    max_abs_loglik_diff: p ? Number(maxDiff.toPrecision(3)) : null,
    items_acc_disagree: p ? accDisagree : null,
    items_acc_norm_disagree: p ? accNormDisagree : null,
    items_is_greedy_disagree: p ? greedyDisagree : null,
    token_lengths_match: p ? !lengthsDiffer : null,
    ...(peer.skipped ? { peer_skipped: peer.skipped } : {}),
    // Other processes' share of the cores during our scoring phase(s), then the peer's loglikelihood phase.
    others_cpu_pct: others,
    others_cpu_pct_max: worst,
    ...(worst > CONTENDED_PCT ? { warning: `other processes kept up to ${worst}% of the cores busy during timed runs: these figures are not reliable, run again on a quiet machine` } : {}),
    bench_s: Math.round((performance.now() - started) / 1000),
    targets: { speedup_vs_peer: '>= 1.5', max_abs_loglik_diff: '<= 1e-3', items_acc_disagree: '0' },
    met: {
      speedup_vs_peer: ratio === null ? null : ratio >= 1.5,
      max_abs_loglik_diff: p ? maxDiff <= 1e-3 : null,
      items_acc_disagree: p ? accDisagree === 0 : null,
    },
  };
}
