// The compute worker: sessions run off the calling thread, report their provider and what was
// tried, and queued runs of a cancelled job never start. Uses the built worker
// (out/main/runtime-worker.js; `npm test` builds first).
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { Graph } from './graph';
import { matmul } from './ops/linalg';
import { RuntimeHost } from './runtime-host';

const N = 768;

function matmulChain(links: number): Uint8Array {
  const g = new Graph('chain');
  let x = g.input('x', 'float32', [N, N]);
  const w = g.constant(Array.from({ length: N * N }, (_, i) => ((i % 7) - 3) / (3 * N)), 'float32', [N, N]);
  for (let i = 0; i < links; i++) x = matmul(x, w);
  g.output(x, 'y');
  return g.toModel();
}

const feeds = { x: { dtype: 'float32' as const, dims: [N, N], data: new Float32Array(N * N).fill(1) } };

describe('RuntimeHost', () => {
  const host = new RuntimeHost();
  afterAll(() => host.close());

  it('loads and runs a graph in the worker, reporting the provider and every provider tried', async () => {
    const g = new Graph('mm');
    const a = g.input('a', 'float32', [2, 3]);
    g.output(matmul(a, g.constant([1, 0, 0, 1, 1, 1], 'float32', [3, 2])), 'y');
    const session = await host.load(g.toModel(), { provider: 'auto' });
    const out = await session.run({ a: { dtype: 'float32', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) } });
    expect(Array.from(out.y.data as Float32Array)).toEqual([4, 5, 10, 11]);
    expect(out.y.dims).toEqual([2, 2]);
    expect(session.provider).toBe(session.attempts.at(-1)!.name);
    expect(session.attempts.at(-1)!.ok).toBe(true);
    // Every provider passed over says why.
    for (const a of session.attempts.slice(0, -1)) expect(a.detail.length).toBeGreaterThan(5);
    await session.release();
    await expect(session.run({})).rejects.toMatchObject({ code: 'RUNTIME_ERROR' });
  });

  it('probes every execution provider; the CPU one always works', async () => {
    const reports = await host.probe();
    expect(reports.map((r) => r.name).sort()).toEqual(['coreml', 'cpu', 'cuda', 'dml', 'webgpu']);
    expect(reports.find((r) => r.name === 'cpu')).toMatchObject({ available: true });
  });

  it('keeps the calling thread free while a run is in flight', async () => {
    const session = await host.load(matmulChain(12), { provider: 'cpu' });
    let settled = false;
    const run = session.run(feeds).then(() => (settled = true));
    let ticks = 0;
    while (!settled && ticks < 1000) {
      await new Promise((r) => setTimeout(r, 1));
      ticks++;
    }
    await run;
    // The timer fired repeatedly while onnxruntime computed: the thread was never blocked.
    expect(ticks).toBeGreaterThan(3);
    await session.release();
  });

  it('drops queued runs of a cancelled job: the started one finishes, the rest never run', async () => {
    const session = await host.load(matmulChain(6), { provider: 'cpu' });
    const controller = new AbortController();
    const runs = Array.from({ length: 4 }, () => session.run(feeds, ['y'], controller.signal));
    controller.abort();
    const results = await Promise.allSettled(runs);
    expect(results[0].status).toBe('fulfilled');
    for (const r of results.slice(1)) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ApiError);
      expect((r as PromiseRejectedResult).reason.code).toBe('CANCELLED');
    }
    expect(host.pending).toBe(0);
    // An already-cancelled signal never reaches the worker; the session still serves others.
    await expect(session.run(feeds, ['y'], controller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await session.run(feeds, ['y'])).y.dims).toEqual([N, N]);
    await session.release();
  });

  it('reports a graph onnxruntime rejects as RUNTIME_ERROR with the providers tried', async () => {
    const error = await host.load(new Uint8Array([1, 2, 3]), { provider: 'cpu' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'RUNTIME_ERROR', details: { tried: expect.stringContaining('cpu:') } });
  });

  it('fails pending work with RUNTIME_ERROR when the worker stops, and refuses work after close', async () => {
    const local = new RuntimeHost();
    const session = await local.load(matmulChain(6), { provider: 'cpu' });
    const queued = Promise.allSettled([session.run(feeds), session.run(feeds)]);
    await local.close();
    for (const r of await queued) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.code).toBe('RUNTIME_ERROR');
    }
    await expect(local.probe()).rejects.toMatchObject({ code: 'RUNTIME_ERROR' });
  });
});
