// The tensors of a MarianMTModel checkpoint, checked against its config before any graph is
// built: every tensor the architecture reads is present with the shape the config implies, and
// every stored tensor is one we read or one whose value we know (a tied copy of the embedding
// matrix, the stored sinusoidal positions, which must equal the table we compute). Anything else
// is refused by name: a tensor we would silently ignore may mean other math.
//
// Names are transformers' state-dict names (model.encoder.layers.N.self_attn.k_proj.weight, …).
// transformers 5 saves only model.shared.weight; older opus-mt conversions also store
// model.encoder.embed_tokens.weight, model.decoder.embed_tokens.weight, lm_head.weight and the
// two embed_positions tables, all of which transformers ties or recomputes.
import { basename } from 'node:path';
import { ApiError } from '../../../shared/errors';
import { readTensorAsFloat32, readTensorBytes, type TensorEntry, type WeightIndex } from '../../io/safetensors';
import type { MarianConfig } from './config';

export interface MarianWeights {
  /** The folder external-data locations resolve against (holds every weight file). */
  folder: string;
  index: WeightIndex;
  /** The stored name the shared embedding matrix (V, d) is read from. */
  embedding: string;
  /** Whether final_logits_bias is stored (transformers uses zeros when it is not). */
  hasFinalLogitsBias: boolean;
}

/** Names the one embedding matrix is stored under, in the order we prefer to read it. */
export const EMBEDDING_ALIASES = ['model.shared.weight', 'model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight', 'lm_head.weight'];
export const POSITION_TABLES = ['model.encoder.embed_positions.weight', 'model.decoder.embed_positions.weight'];
export const FINAL_LOGITS_BIAS = 'final_logits_bias';

const attentionTensors = (prefix: string, d: number): [string, number[]][] =>
  ['q_proj', 'k_proj', 'v_proj', 'out_proj'].flatMap((p): [string, number[]][] => [
    [`${prefix}.${p}.weight`, [d, d]],
    [`${prefix}.${p}.bias`, [d]],
  ]);
const layerNorm = (prefix: string, d: number): [string, number[]][] => [
  [`${prefix}.weight`, [d]],
  [`${prefix}.bias`, [d]],
];
const feedForward = (prefix: string, d: number, ffn: number): [string, number[]][] => [
  [`${prefix}.fc1.weight`, [ffn, d]],
  [`${prefix}.fc1.bias`, [ffn]],
  [`${prefix}.fc2.weight`, [d, ffn]],
  [`${prefix}.fc2.bias`, [d]],
];

/** Every per-layer tensor the encoder and decoder read, with its (out, in) shape. */
export function marianLayerTensors(c: MarianConfig): Map<string, number[]> {
  const d = c.dModel;
  const out: [string, number[]][] = [];
  for (let L = 0; L < c.encoderLayers; L++) {
    const p = `model.encoder.layers.${L}`;
    out.push(...attentionTensors(`${p}.self_attn`, d), ...layerNorm(`${p}.self_attn_layer_norm`, d), ...feedForward(p, d, c.encoderFfnDim), ...layerNorm(`${p}.final_layer_norm`, d));
  }
  for (let L = 0; L < c.decoderLayers; L++) {
    const p = `model.decoder.layers.${L}`;
    out.push(
      ...attentionTensors(`${p}.self_attn`, d),
      ...layerNorm(`${p}.self_attn_layer_norm`, d),
      ...attentionTensors(`${p}.encoder_attn`, d),
      ...layerNorm(`${p}.encoder_attn_layer_norm`, d),
      ...feedForward(p, d, c.decoderFfnDim),
      ...layerNorm(`${p}.final_layer_norm`, d),
    );
  }
  return new Map(out);
}

/** transformers' MarianSinusoidalPositionalEmbedding rows start..start+count-1, (count, d) row-major:
 * column i < d/2 is sin(p / 10000^(2i/d)), column d/2 + i is cos of the same angle (for odd d the
 * sin half has ⌈d/2⌉ columns). Computed in float64 as numpy does, then rounded to float32. */
export function sinusoidalPositions(start: number, count: number, d: number): Float32Array {
  const sinCols = Math.ceil(d / 2);
  const out = new Float32Array(count * d);
  for (let t = 0; t < count; t++) {
    const p = start + t;
    for (let j = 0; j < d; j++) {
      // numpy's position_enc[p, j] = p / 10000^(2·(j//2)/d); sin takes the even j, cos the odd j.
      const i = j < sinCols ? 2 * j : 2 * (j - sinCols) + 1;
      const angle = p / 10000 ** ((2 * Math.floor(i / 2)) / d);
      out[t * d + j] = j < sinCols ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

function weightsError(index: WeightIndex, message: string, tensor: string, extra: Record<string, unknown> = {}): ApiError {
  const entry = index.tensors.get(tensor);
  const file = entry?.file ?? index.files[0];
  const where = entry ? basename(entry.file) : index.files.length === 1 ? basename(index.files[0]) : `the ${index.files.length} weight files`;
  return new ApiError('WEIGHTS_INVALID', `${where}: ${message}`, { file, tensor, ...extra });
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function expectShape(index: WeightIndex, entry: TensorEntry, shape: number[]): void {
  if (!sameShape(entry.shape, shape)) {
    throw weightsError(index, `tensor '${entry.name}' has shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}] from config.json`, entry.name, {
      expected: shape,
      found: entry.shape,
    });
  }
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Positions a checkpoint stores must be the table we compute: 1e-5 covers numpy's float64 → float32
 * rounding against ours; a table made another way (interleaved sin/cos, learned) is far off. */
const POSITION_TOLERANCE = 1e-5;

/** Checks `index` against `config` (see the file comment) and says where each tensor is read from. */
export function checkMarianWeights(config: MarianConfig, index: WeightIndex, folder: string): MarianWeights {
  const known = new Set<string>();
  for (const [name, shape] of marianLayerTensors(config)) {
    const entry = index.tensors.get(name);
    if (!entry) throw weightsError(index, `has no tensor '${name}', which config.json's layer counts and sizes require`, name);
    expectShape(index, entry, shape);
    known.add(name);
  }

  const V = config.vocabSize;
  const d = config.dModel;
  const aliases = EMBEDDING_ALIASES.filter((n) => index.tensors.has(n));
  if (!aliases.length) throw weightsError(index, `has no embedding matrix (${EMBEDDING_ALIASES.join(', ')}); not a MarianMTModel checkpoint`, EMBEDDING_ALIASES[0]);
  const embedding = aliases[0];
  const first = index.tensors.get(embedding)!;
  expectShape(index, first, [V, d]);
  for (const alias of aliases.slice(1)) {
    const entry = index.tensors.get(alias)!;
    expectShape(index, entry, [V, d]);
    // One matrix in transformers (tied): a stored copy that differs would be silently replaced there.
    const sameBytes = entry.file === first.file && entry.offset === first.offset && entry.dtype === first.dtype;
    if (!sameBytes && !equalValues(first, entry)) {
      throw weightsError(index, `tensor '${alias}' differs from '${embedding}'; Marian ties them into one matrix, so this checkpoint was not made for it`, alias, { tiedTo: embedding });
    }
  }
  aliases.forEach((a) => known.add(a));

  const bias = index.tensors.get(FINAL_LOGITS_BIAS);
  if (bias) {
    expectShape(index, bias, [1, V]);
    known.add(FINAL_LOGITS_BIAS);
  }

  for (const name of POSITION_TABLES) {
    const entry = index.tensors.get(name);
    if (!entry) continue;
    expectShape(index, entry, [config.maxPositions, d]);
    if (!FLOAT_DTYPES.has(entry.dtype)) throw weightsError(index, `tensor '${name}' is ${entry.dtype}; expected a float table`, name);
    const stored = readTensorAsFloat32(entry);
    const ours = sinusoidalPositions(0, config.maxPositions, d);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < ours.length; i++) {
      const diff = Math.abs(stored[i] - ours[i]);
      if (!(diff <= worst)) {
        worst = diff;
        at = i;
      }
    }
    if (!(worst <= POSITION_TOLERANCE)) {
      throw weightsError(
        index,
        `tensor '${name}' is not the sinusoidal table Marian computes (position ${Math.floor(at / d)}, column ${at % d}: stored ${stored[at]}, computed ${ours[at]}); positions are computed here, not read`,
        name,
      );
    }
    known.add(name);
  }

  for (const [name, entry] of index.tensors) {
    if (!known.has(name)) {
      throw weightsError(index, `holds tensor '${name}' [${entry.shape.join(', ')}], which a MarianMTModel with this config.json does not have; refusing rather than ignoring it`, name, {
        unexpected: true,
      });
    }
    if (!FLOAT_DTYPES.has(entry.dtype)) throw weightsError(index, `tensor '${name}' is ${entry.dtype}; weights must be F32, BF16, F16 or F64`, name);
  }
  return { folder, index, embedding, hasFinalLogitsBias: !!bias };
}

function equalValues(a: TensorEntry, b: TensorEntry): boolean {
  if (a.dtype === b.dtype) {
    const x = readTensorBytes(a);
    const y = readTensorBytes(b);
    return x.length === y.length && Buffer.from(x.buffer, x.byteOffset, x.length).equals(Buffer.from(y.buffer, y.byteOffset, y.length));
  }
  const x = readTensorAsFloat32(a);
  const y = readTensorAsFloat32(b);
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}
