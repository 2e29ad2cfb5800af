// The fine-tune through the whole RPC stack: the demo model and SAEs, a user's corpus file, a real
// SQLite file, the compute and tokenizer workers (`npx electron-vite build` first). A run writes its
// folder and the before/after report, `finetune.status` reads it back whole, the held-out analyses
// land in the run history; the run folder's rules (new/empty, or resume with the same arguments)
// and bad requests are typed errors that leave the folder as it was.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejection } from '../../../test/helpers/rejection';
import { tempDir } from '../../../test/helpers/temp';
import { createApi } from '../../shared/client';
import type { Input } from '../../shared/contract';
import { createTransportPair } from '../../shared/rpc';
import { createBackend } from './backend';
import { serveConnection } from './server';
import { writePairsCorpus } from '../../../test/helpers/pairs-corpus';

const DEMO = resolve(import.meta.dirname, '..', '..', '..', 'resources', 'demo');
const tmp = tempDir('linguascope-finetune-service-');

const corpusFile = () => writePairsCorpus(tmp.dir);

describe('finetune.run / finetune.status over the API', () => {
  const backend = createBackend({ dbPath: join(tmp.dir, 'finetune.db') });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const api = createApi(client);
  const corpus = corpusFile();
  const request = (outDir: string, over: Partial<Input<'finetune.run'>> = {}): Input<'finetune.run'> => ({
    model: join(DEMO, 'model'),
    saes: join(DEMO, 'saes'),
    languages: ['en', 'hi'],
    corpus,
    outDir,
    settings: { steps: 4, data: { batchPairs: 4, heldOut: 0.3 }, lora: { rank: 4, alpha: 8 }, monitor: { evalEvery: 2, checkpointEvery: 2 }, loss: { direction: 'target-only' } },
    ...over,
  });

  afterAll(async () => {
    api.dispose();
    await backend.close();
    tmp.cleanup();
  });

  it('trains, writes the run folder and the report, and status reads back the whole run', async () => {
    const dir = join(tmp.dir, 'run');
    const steps: number[] = [];
    const stop = api.on('progress', (p) => p.stage === 'training' && p.detail?.kind === 'step' && steps.push(p.done));
    const result = await api.finetune.run(request(dir)).finally(stop);
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(result.outcome).toBe('completed');
    expect(readdirSync(dir).sort()).toEqual(['adapter', 'checkpoints', 'finetune.json', 'report', 'steps.jsonl']);
    expect(readdirSync(join(dir, 'report'))).toEqual(expect.arrayContaining(['report.html', 'result.json', 'steps.csv', 'gain.csv', 'loss.svg', 'activation.png']));
    expect(readFileSync(join(dir, 'report', 'report.html'), 'utf8')).toMatch(/activation gain % \(held-out\)/);
    expect(result.config.split.heldOutSegments.length).toBe(3);
    // The held-out analyses ran on exactly the held-out segments, without and with the adapter.
    expect(result.analysis.before.segments).toBe(3);
    expect(result.analysis.after.adapter?.path).toBe(result.adapterDir);
    const status = await api.finetune.status({ dir });
    expect(status.records.filter((r) => r.kind === 'step').map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(status.checkpoints.map((c) => c.step)).toEqual([2, 4]);
    expect(status.result?.report.gain_percent.hi.value).toBe(result.report.gain_percent.hi.value);
    const runs = await api.runs.list({});
    expect(runs.filter((r) => r.kind === 'analysis' && r.segments === 3).length).toBeGreaterThanOrEqual(2);
  }, 300_000);

  it('a run folder of another run, a foreign folder or a link is refused; resume needs the same arguments', async () => {
    const dir = join(tmp.dir, 'run');
    expect(await rejection(api.finetune.run(request(dir)))).toMatchObject({ code: 'OUTPUT_EXISTS' });
    const changed = await rejection(api.finetune.run(request(dir, { resume: true, settings: { ...request(dir).settings, lora: { rank: 8 } } })));
    expect(changed).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(changed.message).toMatch(/started with another settings/);
    expect(await rejection(api.finetune.run(request(dir, { resume: true, checkpoint: 3 })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no checkpoint at step 3; it has 2, 4/) });
    const foreign = join(tmp.dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    expect(await rejection(api.finetune.run(request(foreign)))).toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
    symlinkSync(foreign, join(tmp.dir, 'link'));
    expect(await rejection(api.finetune.run(request(join(tmp.dir, 'link'))))).toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await rejection(api.finetune.run(request(join(tmp.dir, 'nothing'), { resume: true })))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await rejection(api.finetune.status({ dir: foreign }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  }, 120_000);

  it('resuming from an earlier checkpoint replays the same steps', async () => {
    const dir = join(tmp.dir, 'run');
    const before = await api.finetune.status({ dir });
    const result = await api.finetune.run(request(dir, { resume: true, checkpoint: 2 }));
    expect(result.steps).toBe(4);
    const after = await api.finetune.status({ dir });
    const losses = (s: typeof before) => s.records.filter((r) => r.kind === 'step').map((r) => (r.kind === 'step' ? r.loss : 0));
    expect(losses(after)).toEqual(losses(before));
  }, 300_000);

  it.each([
    ['rank 0', { settings: { lora: { rank: 0 } } }],
    ['negative retention weight', { settings: { loss: { alpha: -1 } } }],
    ['an unknown loss space', { settings: { loss: { space: 'logits' } } }],
    ['an unknown setting', { settings: { lora: { use_dora: true } } }],
    ['a layer beyond the model', { settings: { lora: { adaptLayers: [0, 99] } } }],
    ['only English', { languages: ['en'] }],
    ['a language the corpus lacks', { languages: ['en', 'hi', 'ml'] }],
  ] as [string, Partial<Input<'finetune.run'>>][])('refuses %s with a typed error and writes nothing', async (_name, over) => {
    const dir = join(tmp.dir, `bad-${Math.random().toString(36).slice(2)}`);
    const error = await rejection(api.finetune.run({ ...request(dir), ...over }));
    expect(['INVALID_ARGUMENT', 'LANGUAGE_NOT_IN_CORPUS']).toContain(error.code);
    expect(() => readdirSync(dir)).toThrow();
  }, 60_000);
});
