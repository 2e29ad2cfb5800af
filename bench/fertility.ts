// Tokenizer fertility: tokenization throughput of our tokenizer against the Rust `tokenizers`
// library (Python binding, bench/peer/tokenizers_encode.py) on the same texts in the same run,
// and the cost of a cold analysis against one served from the SQLite cache.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../src/main/backend/backend';
import type { JobContext } from '../src/main/backend/handler';
import { PAPER_LANGUAGES } from '../src/main/data/languages';
import { loadUdhr } from '../src/main/data/udhr';
import { bundledTokenizerDir, loadTokenizer } from '../src/main/io/tokenizer';
import { packageRoot } from '../src/main/package-root';
import { emit, machine } from './machine';

const REPEATS = 3;

function peerPython(): string | null {
  const candidates = [process.env.BENCH_PYTHON, join(homedir(), '.venvs', 'ref', 'bin', 'python'), 'python3'].filter(Boolean) as string[];
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import tokenizers'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return null;
}

const ctx = (): JobContext => ({ jobId: 'bench', signal: new AbortController().signal, progress: () => {}, log: () => {} });

export async function benchFertility(): Promise<Record<string, unknown>> {
  emit({ bench: 'fertility', machine: machine() });
  const texts = PAPER_LANGUAGES.flatMap((l) => loadUdhr(l.corpusCode).sections.flatMap((s) => s.paragraphs));
  const characters = texts.reduce((n, t) => n + t.length, 0);

  let t0 = performance.now();
  const tokenizer = loadTokenizer();
  const loadMs = performance.now() - t0;
  let tokens = 0;
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    t0 = performance.now();
    tokens = 0;
    for (const text of texts) tokens += tokenizer.encode(text).length;
    times.push(performance.now() - t0);
  }
  const encodeMs = Math.min(...times);
  const oursTokensPerS = tokens / (encodeMs / 1000);
  emit({ bench: 'fertility', step: 'encode', impl: 'ours (@huggingface/tokenizers, JS)', paragraphs: texts.length, characters, tokens, load_ms: Math.round(loadMs), encode_ms: Math.round(encodeMs), tokens_per_s: Math.round(oursTokensPerS) });

  let peerTokensPerS: number | null = null;
  const python = peerPython();
  if (python) {
    const peer = spawnSync(python, [join(packageRoot(), 'bench', 'peer', 'tokenizers_encode.py'), join(bundledTokenizerDir(), 'tokenizer.json'), String(REPEATS)], {
      input: JSON.stringify(texts),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (peer.status === 0) {
      const result = JSON.parse(peer.stdout.trim().split('\n').at(-1)!) as { tokens: number; encode_ms: number; load_ms: number; version: string };
      peerTokensPerS = result.tokens / (result.encode_ms / 1000);
      emit({ bench: 'fertility', step: 'encode', impl: `peer (tokenizers ${result.version}, Rust via Python, one thread)`, tokens: result.tokens, same_tokens: result.tokens === tokens, load_ms: Math.round(result.load_ms), encode_ms: Math.round(result.encode_ms), tokens_per_s: Math.round(peerTokensPerS) });
    } else {
      emit({ bench: 'fertility', step: 'encode', impl: 'peer', skipped: peer.stderr.trim().split('\n').at(-1) });
    }
  } else {
    emit({ bench: 'fertility', step: 'encode', impl: 'peer', skipped: 'no Python with `tokenizers` (set BENCH_PYTHON)' });
  }

  const dir = mkdtempSync(join(tmpdir(), 'linguascope-bench-'));
  try {
    const backend = createBackend({ dbPath: join(dir, 'bench.db') });
    const languages = PAPER_LANGUAGES.map((l) => l.code);
    t0 = performance.now();
    await backend.handlers['fertility.run']({ languages }, ctx());
    const coldMs = performance.now() - t0; // the tokenizer instance is already loaded above
    t0 = performance.now();
    await backend.handlers['fertility.run']({ languages }, ctx());
    const cachedMs = performance.now() - t0;
    backend.close();
    emit({ bench: 'fertility', step: 'analysis', languages: languages.length, cold_ms: Math.round(coldMs), cached_ms: Math.round(cachedMs) });
    return {
      machine: machine().cpu,
      tokens_per_s: Math.round(oursTokensPerS),
      peer_tokens_per_s: peerTokensPerS && Math.round(peerTokensPerS),
      speed_vs_peer: peerTokensPerS && Number((oursTokensPerS / peerTokensPerS).toFixed(3)),
      tokenizer_load_ms: Math.round(loadMs),
      analysis_cold_ms: Math.round(coldMs),
      analysis_cached_ms: Math.round(cachedMs),
      cache_speedup: Number((coldMs / cachedMs).toFixed(2)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
