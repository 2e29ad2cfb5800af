// eval.correlate over the RPC stack with a real SQLite file: sources as folders, files or an
// inline result; the folder's files; classes of bad sources (not JSON, another document, a summary
// whose series do not match its layers, a FIFO, a missing file) and a foreign output folder are
// typed errors that name the file and write nothing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejection } from '../../../../test/helpers/rejection';
import { tempDir } from '../../../../test/helpers/temp';
import { createApi } from '../../../shared/client';
import { createTransportPair } from '../../../shared/rpc';
import { createBackend } from '../backend';
import { serveConnection } from '../server';

const tmp = tempDir('linguascope-correlate-');
const codes = ['en', 'fr', 'de', 'hi', 'ml', 'mr'];
const tiers = ['reference', 'high', 'high', 'medium-low', 'medium-low', 'medium-low'];
const m = codes.map((_, i) => [1 - i / 10, 2 - i / 5 + (i % 2) / 10]);
const summary = {
  languages: codes.map((code, i) => ({ code, name: code, tier: tiers[i] })),
  layers: [2, 5],
  segments: 30,
  mean_activation: Object.fromEntries(codes.map((c, i) => [c, m[i]])),
  deficit_vs_en: Object.fromEntries(codes.map((c, i) => [c, m[i].map((v, l) => (100 * (m[0][l] - v)) / m[0][l])])),
  gap_percent: [10, 20],
  model: { path: '/models/demo', architecture: 'gemma2' },
  settings: { reduction: 'mean' },
  top_features: [],
};
const result = {
  model: '/models/demo',
  adapter: null,
  data: '/data',
  preset: 'lm-eval-okapi',
  results: codes.map((language, i) => ({ task: 'arc' as const, language, n: 40, before: { acc: 0.6 - i * 0.04 + (i % 3) / 100, acc_stderr: 0.05, acc_norm: 0.5, acc_norm_stderr: 0.05 } })),
  cache: { items: 240, cached: 0, scored: 240 },
};

function folderWith(name: string, file: string, content: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), content);
  return dir;
}

describe('eval.correlate over the API', () => {
  const backend = createBackend({ dbPath: join(tmp.dir, 'c.db') });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const api = createApi(client);
  const analysis = folderWith('analysis', 'summary.json', JSON.stringify(summary));
  const evaluation = folderWith('eval', 'results.json', JSON.stringify(result));

  afterAll(async () => {
    api.dispose();
    await backend.close();
    tmp.cleanup();
  });

  it('reads a report folder and an evaluation folder (or the result inline) and writes the files', async () => {
    const out = join(tmp.dir, 'out');
    const r = await api.eval.correlate({ analysis: { path: analysis }, eval: { path: evaluation }, outDir: out, bootstrap: 500 });
    expect(r.measure).toBe('deficit');
    expect(r.per_layer.map((l) => l.n)).toEqual([6, 6]);
    expect(r.per_layer[0].pearson.ci).not.toBeNull();
    expect(r.warnings[0]).toMatch(/^n = 6 languages is a small sample/);
    expect(readdirSync(out).sort()).toEqual(['.linguascope-output.json', 'correlation.csv', 'correlation.json', 'correlation.svg', 'points.csv', 'scatter-layer-2.svg', 'scatter-layer-5.svg']);
    expect(readFileSync(join(out, 'points.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 6);
    const inline = await api.eval.correlate({ analysis: { path: join(analysis, 'summary.json') }, eval: { result }, bootstrap: 500 });
    expect(inline.per_layer).toEqual(r.per_layer);
    expect(inline.outDir).toBeNull();
  });

  it.each([
    ['an evaluation that is not JSON', () => ({ eval: { path: folderWith('cut', 'results.json', '{"model": "/m", "res') } }), /results\.json: is not valid JSON \(at character 20\)/],
    ['a summary that is another document', () => ({ analysis: { path: folderWith('other', 'summary.json', JSON.stringify(result)) } }), /is not an analysis report's summary\.json \(languages: /],
    ['a summary whose series do not match its layers', () => ({ analysis: { path: folderWith('short', 'summary.json', JSON.stringify({ ...summary, layers: [2, 5, 9] })) } }), /one value per layer for every language/],
    ['an evaluation row with an unknown task', () => ({ eval: { path: folderWith('task', 'results.json', JSON.stringify({ ...result, results: [{ ...result.results[0], task: 'piqa' }] })) } }), /results\.0\.task/],
    ['a folder without summary.json', () => ({ analysis: { path: join(tmp.dir, 'eval') } }), /summary\.json: no such file/],
    ['a named pipe', () => {
      const fifo = join(tmp.dir, `fifo-${Math.random().toString(36).slice(2)}`);
      execFileSync('mkfifo', [fifo]);
      return { eval: { path: fifo } };
    }, /is a named pipe \(FIFO\)/],
  ])('refuses %s with a typed error naming the file', async (_name, over, message) => {
    const error = await rejection(api.eval.correlate({ analysis: { path: analysis }, eval: { path: evaluation }, ...over() }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });

  it('a foreign output folder is refused before anything is read, and kept', async () => {
    const foreign = folderWith('foreign', 'notes.txt', 'mine');
    expect(await rejection(api.eval.correlate({ analysis: { path: analysis }, eval: { path: evaluation }, outDir: foreign }))).toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
  });
});
