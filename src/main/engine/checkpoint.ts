// Training checkpoints as safetensors: every parameter and moment under its name, the step in
// the metadata. Written atomically by writeSafetensors, so a crash leaves the previous one.
import { ApiError } from '../../shared/errors';
import { readSafetensorsHeader, readTensorBytes, writeSafetensors, type SafetensorsDtype } from '../io/safetensors';
import type { HostTensor } from './session';
import type { TrainerState } from './trainer';

const TO_SAFETENSORS: Partial<Record<HostTensor['dtype'], SafetensorsDtype>> = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64' };
const FROM_SAFETENSORS = Object.fromEntries(Object.entries(TO_SAFETENSORS).map(([ours, theirs]) => [theirs, ours])) as Partial<Record<SafetensorsDtype, HostTensor['dtype']>>;

/** `extra`: more metadata (e.g. a training loop's own state as JSON), returned by loadCheckpoint. */
export function saveCheckpoint(file: string, state: TrainerState, extra: Record<string, string> = {}): void {
  writeSafetensors(
    file,
    Object.entries(state.tensors).map(([name, t]) => {
      const dtype = TO_SAFETENSORS[t.dtype];
      if (!dtype) throw new ApiError('INVALID_ARGUMENT', `checkpoint: tensor ${name} has dtype ${t.dtype}, which checkpoints do not store`);
      return { name, dtype, shape: [...t.dims], data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
    }),
    { ...extra, format: 'linguascope-trainer', step: String(state.step) },
  );
}

export function loadCheckpoint(file: string): TrainerState & { metadata: Record<string, string> } {
  const header = readSafetensorsHeader(file);
  const step = Number(header.metadata.step);
  if (header.metadata.format !== 'linguascope-trainer' || !Number.isInteger(step)) {
    throw new ApiError('WEIGHTS_INVALID', `${file} is not a LinguaScope training checkpoint`, { file });
  }
  const tensors: Record<string, HostTensor> = {};
  for (const entry of header.tensors.values()) {
    const bytes = readTensorBytes(entry);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const data =
      entry.dtype === 'F32' ? new Float32Array(buffer)
      : entry.dtype === 'F64' ? new Float64Array(buffer)
      : entry.dtype === 'I32' ? new Int32Array(buffer)
      : entry.dtype === 'I64' ? new BigInt64Array(buffer)
      : null;
    if (!data) throw new ApiError('WEIGHTS_INVALID', `${file}: tensor '${entry.name}' has dtype ${entry.dtype}, not a checkpoint dtype`, { file });
    tensors[entry.name] = { dtype: FROM_SAFETENSORS[entry.dtype]!, dims: entry.shape, data };
  }
  return { step, tensors, metadata: header.metadata };
}
