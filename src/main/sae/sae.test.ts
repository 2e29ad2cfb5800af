// SAE loading and encoding against SAELens 6.54 (scripts/reference/make_sae_fixtures.py): every
// architecture and normalisation SAELens writes, plus Gemma Scope params.npz (stored and deflated),
// encode and reconstruction within 1e-5; the fused model+SAE graph against SAELens run on HF
// transformers' activations; and the typed errors for SAEs that do not fit.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { Graph } from '../engine/graph';
import { RuntimeHost } from '../engine/runtime-host';
import { EngineSession } from '../engine/session';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../io/safetensors';
import { openModelFolder } from '../models/model';
import { saeGraph } from './encode';
import { SaeExtractor } from './extract';
import { checkSaeFitsModel, findSaes, gemmaScopeWidthFits, loadSae, type SaeSpec } from './sae';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const saelens = join(fixtures, 'saes', 'saelens');
const gemmascope = join(fixtures, 'saes', 'gemmascope', 'layer_1', 'width_128');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function reference(dir: string) {
  const header = readSafetensorsHeader(join(dir, 'reference.safetensors'));
  const get = (name: string) => ({ data: readTensorAsFloat32(header.tensors.get(name)!), shape: header.tensors.get(name)!.shape });
  return { x: get('x'), acts: get('feature_acts'), recon: get('reconstruction') };
}

async function encode(spec: SaeSpec, x: { data: Float32Array; shape: number[] }) {
  const g = new Graph('sae');
  const input = g.input('x', 'float32', ['n', spec.dIn]);
  const root = spec.format === 'saelens' ? join(spec.tensors.W_enc.file, '..') : join(spec.tensors.W_enc.file, '..');
  const { acts, recon } = saeGraph(input, spec, root, 'sae');
  g.output(acts, 'acts');
  g.output(recon, 'recon');
  const session = await EngineSession.create(g.toModel(), { provider: 'cpu', externalDataFolder: root });
  try {
    const out = await session.run({ x: { dtype: 'float32', dims: x.shape, data: x.data } });
    return { acts: out.acts.data as Float32Array, recon: out.recon.data as Float32Array };
  } finally {
    await session.release();
  }
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('SAE encoding vs SAELens', () => {
  const variants = readdirSync(saelens).sort();
  it.each(variants)('SAELens %s: feature activations and reconstruction within 1e-5', async (name) => {
    const spec = await loadSae(join(saelens, name));
    expect(spec.format).toBe('saelens');
    const ref = reference(join(saelens, name));
    const ours = await encode(spec, ref.x);
    expect(maxAbs(ours.acts, ref.acts.data)).toBeLessThanOrEqual(1e-5);
    expect(maxAbs(ours.recon, ref.recon.data)).toBeLessThanOrEqual(1e-5);
    // The fixture's SAE really fires some features and leaves most silent.
    const active = ref.acts.data.filter((v) => v > 0).length / ref.x.shape[0];
    expect(active).toBeGreaterThan(1);
    expect(active).toBeLessThan(spec.dSae / 2);
  });

  it.each(readdirSync(gemmascope).sort())('Gemma Scope %s/params.npz: read in place (stored) or inflated (deflated), within 1e-5', async (name) => {
    const dir = join(gemmascope, name);
    const spec = await loadSae(join(dir, 'params.npz'));
    expect(spec).toMatchObject({ format: 'gemmascope', architecture: 'jumprelu', applyBDecToInput: false, normalize: 'none', hookName: 'blocks.1.hook_resid_post', dIn: 64, dSae: 128 });
    const compressed = name.endsWith('-compressed');
    expect(spec.tensors.W_enc.data === undefined).toBe(!compressed);
    const ref = reference(dir);
    const ours = await encode(spec, ref.x);
    expect(maxAbs(ours.acts, ref.acts.data)).toBeLessThanOrEqual(1e-5);
    expect(maxAbs(ours.recon, ref.recon.data)).toBeLessThanOrEqual(1e-5);
  });
});

describe('fused model + SAE extraction', () => {
  const runtime = new RuntimeHost();
  afterAll(() => runtime.close());

  it('per-phrase mean and max of every feature equal SAELens on HF activations (gemma2 fixture, layer 1)', async () => {
    const folder = openModelFolder(join(fixtures, 'models', 'gemma2'));
    const spec = await loadSae(join(saelens, 'jumprelu'));
    const ref = reference(join(saelens, 'jumprelu'));
    const modelRef = readSafetensorsHeader(join(fixtures, 'models', 'gemma2', 'reference.safetensors'));
    const ids = new BigInt64Array(readFileSync(modelRef.file).buffer.slice(modelRef.tensors.get('input_ids')!.offset, modelRef.tensors.get('input_ids')!.offset + 3 * 10 * 8));
    const lengths = [10, 7, 4];
    const phrases = lengths.map((len, b) => Array.from(ids.subarray(b * 10, b * 10 + len), Number));
    const extractor = await SaeExtractor.load(folder, [spec], runtime);
    try {
      const out = await extractor.run(phrases);
      let row = 0;
      let worst = 0;
      phrases.forEach((p, b) => {
        // The fixture phrases do not start with BOS (id 2), so every token counts.
        expect(p[0]).not.toBe(2);
        const mean = new Float64Array(spec.dSae);
        const max = new Float64Array(spec.dSae);
        // Fidelity sums from SAELens's own reconstruction of the HF activations.
        let sse = 0;
        let sumSq = 0;
        let l0 = 0;
        for (let t = 0; t < p.length; t++) {
          for (let d = 0; d < spec.dIn; d++) {
            const x = ref.x.data[(row + t) * spec.dIn + d];
            sse += (x - ref.recon.data[(row + t) * spec.dIn + d]) ** 2;
            sumSq += x * x;
          }
          for (let f = 0; f < spec.dSae; f++) l0 += ref.acts.data[(row + t) * spec.dSae + f] > 0 ? 1 : 0;
        }
        for (let t = 0; t < p.length; t++, row++) {
          for (let f = 0; f < spec.dSae; f++) {
            const v = ref.acts.data[row * spec.dSae + f];
            mean[f] += v / p.length;
            max[f] = Math.max(max[f], v);
          }
        }
        const s = out[b][0];
        expect(Array.from(s.features)).toEqual([...Array(spec.dSae).keys()].filter((f) => max[f] > 0));
        s.features.forEach((f, j) => {
          worst = Math.max(worst, Math.abs(s.mean[j] - mean[f]), Math.abs(s.max[j] - max[f]));
        });
        expect(s.fidelity.count).toBe(p.length);
        expect(s.fidelity.l0).toBe(l0);
        expect(Math.abs(s.fidelity.sse - sse) / sse).toBeLessThan(1e-4);
        expect(Math.abs(s.fidelity.sumSq - sumSq) / sumSq).toBeLessThan(1e-5);
      });
      // Model (≤ 6e-6 vs HF) and SAE errors combined.
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await extractor.release();
    }
  });

  it('a phrase summary does not depend on the batch it runs in (padding, batch size)', async () => {
    const folder = openModelFolder(join(fixtures, 'models', 'gemma2'));
    const spec = await loadSae(join(saelens, 'jumprelu'));
    const extractor = await SaeExtractor.load(folder, [spec], runtime);
    try {
      const phrase = [5, 17, 29, 41, 53, 65, 77];
      const alone = (await extractor.run([phrase]))[0][0];
      const batched = (await extractor.run([[9, 8, 7, 6, 5, 4, 3, 2, 11, 12, 13, 14], phrase, [30, 31]]))[1][0];
      expect(Array.from(batched.features)).toEqual(Array.from(alone.features));
      const worst = alone.mean.reduce((m, v, j) => Math.max(m, Math.abs(v - batched.mean[j]), Math.abs(alone.max[j] - batched.max[j])), 0);
      // Only float rounding of differently shaped GEMMs may differ (2.4e-7 when written).
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await extractor.release();
    }
  });

  it('finds every SAE under a folder, and says exactly what does not fit a model', async () => {
    const all = await findSaes(join(fixtures, 'saes'));
    expect(all.length).toBe(readdirSync(saelens).length + readdirSync(gemmascope).length);
    const spec = all[0];
    const model = { dModel: 2304, layers: 26, architecture: 'Gemma2ForCausalLM' };
    expect(() => checkSaeFitsModel(spec, model)).toThrow(expect.objectContaining({ code: 'WEIGHTS_INVALID', message: expect.stringContaining('size 64 (d_in), the model\'s residual stream has 2304') }));
    expect(() => checkSaeFitsModel({ ...spec, hookName: 'blocks.30.hook_resid_post' }, { ...model, dModel: 64 })).toThrow(/needs layer 30, Gemma2ForCausalLM has layers 0\.\.25/);
  });

  it('rejects an SAE whose shapes disagree, and a cfg without a needed key', async () => {
    const bad = join(tmp.dir, 'bad-cfg');
    cpSync(join(saelens, 'topk'), bad, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(bad, 'cfg.json'), 'utf8'));
    writeFileSync(join(bad, 'cfg.json'), JSON.stringify({ ...cfg, k: undefined }));
    await expect(loadSae(bad)).rejects.toMatchObject({ code: 'WEIGHTS_INVALID', message: expect.stringContaining('a topk SAE needs a positive integer "k"') });
    writeFileSync(join(bad, 'cfg.json'), JSON.stringify({ ...cfg, d_sae: 256 }));
    await expect(loadSae(bad)).rejects.toMatchObject({ code: 'WEIGHTS_INVALID', message: expect.stringContaining('d_sae is 256 but W_enc is [64, 128]') });
  });

  it('rejects a Gemma Scope npz without a needed key, and a truncated one, naming the file', async () => {
    const stored = readFileSync(join(gemmascope, 'average_l0_22', 'params.npz'));
    // Renaming the entry in the local header and the central directory keeps the zip valid
    // (the CRC covers the data, not the name): the archive then lacks 'threshold'.
    const renamed = Buffer.from(stored.toString('latin1').replaceAll('threshold.npy', 'thresholx.npy'), 'latin1');
    expect(renamed.length).toBe(stored.length);
    const missing = join(tmp.dir, 'gs-missing', 'layer_1', 'width_128', 'average_l0_22');
    mkdirSync(missing, { recursive: true });
    writeFileSync(join(missing, 'params.npz'), renamed);
    await expect(loadSae(join(missing, 'params.npz'))).rejects.toMatchObject({ code: 'WEIGHTS_INVALID', message: expect.stringMatching(/params\.npz.*threshold/) });
    const truncated = join(tmp.dir, 'gs-truncated', 'layer_1', 'width_128', 'average_l0_22');
    mkdirSync(truncated, { recursive: true });
    writeFileSync(join(truncated, 'params.npz'), stored.subarray(0, Math.floor(stored.length / 2)));
    await expect(loadSae(join(truncated, 'params.npz'))).rejects.toMatchObject({ code: 'WEIGHTS_INVALID', message: expect.stringContaining('params.npz') });
  });

  it('reads the site and width from Gemma Scope paths: an MLP-output SAE or a width the weights contradict is refused', async () => {
    const stored = readFileSync(join(gemmascope, 'average_l0_22', 'params.npz'));
    const put = (...parts: string[]) => {
      const dir = join(tmp.dir, ...parts);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'params.npz'), stored);
      return join(dir, 'params.npz');
    };
    const res = await loadSae(put('gemma-scope-2b-pt-res', 'layer_1', 'width_128', 'average_l0_22'));
    expect(res).toMatchObject({ hookName: 'blocks.1.hook_resid_post', dSae: 128, averageL0: 22 });
    await expect(loadSae(put('gemma-scope-2b-pt-mlp', 'layer_1', 'width_128', 'average_l0_22'))).rejects.toMatchObject({
      code: 'WEIGHTS_INVALID',
      message: expect.stringContaining('is a Gemma Scope SAE of the MLP output (gemma-scope-*-mlp)'),
    });
    await expect(loadSae(put('other', 'layer_1', 'width_16k', 'average_l0_22'))).rejects.toMatchObject({
      code: 'WEIGHTS_INVALID',
      message: expect.stringContaining('its folder says width_16k but W_enc is [64, 128] (128 features)'),
    });
    await expect(loadSae(put('models--google--gemma-scope-2b-pt-transcoders', 'layer_1', 'width_128', 'average_l0_22'))).rejects.toMatchObject({
      message: expect.stringContaining('is a Gemma Scope SAE of MLP transcoders'),
    });
  });

  it('reads Gemma Scope folder widths the way the releases round them', () => {
    for (const [text, d] of [['16k', 16384], ['32k', 32768], ['65k', 65536], ['131k', 131072], ['262k', 262144], ['524k', 524288], ['1m', 1048576], ['128', 128]] as const) {
      expect(gemmaScopeWidthFits(text, d), text).toBe(true);
    }
    expect(gemmaScopeWidthFits('16k', 65536)).toBe(false);
    expect(gemmaScopeWidthFits('131k', 65536)).toBe(false);
    expect(gemmaScopeWidthFits('128', 256)).toBe(false);
    expect(gemmaScopeWidthFits('wide', 128)).toBeNull();
  });
});
