// The parts of a SentencePiece model file (.spm, a serialized `ModelProto` protobuf from
// sentencepiece's src/sentencepiece_model.proto) that decoding needs and the JavaScript library
// does not expose: each piece's text and type, and the normaliser flags that decide whether a
// leading "▁" is dropped. Segmentation itself is done by the library (@sctg/sentencepiece-js,
// the C++ implementation in WebAssembly); this reader also lets a file that is not a
// SentencePiece model be refused by name before the library silently loads nothing.
//
// ModelProto: 1 pieces (repeated {1 piece: string, 2 score: float, 3 type: enum}),
// 2 trainer_spec {3 model_type, 24 treat_whitespace_as_suffix, 35 byte_fallback, 44 unk_surface},
// 3 normalizer_spec {1 name, 2 precompiled_charsmap, 3 add_dummy_prefix = true,
// 4 remove_extra_whitespaces = true, 6 normalization_rule_tsv}, 5 denormalizer_spec (same type).

/** SentencePiece.Type. */
export const PIECE_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SpmModel {
  pieces: string[];
  types: number[];
  /** piece -> index, as the C++ PieceToId finds it. */
  ids: Map<string, number>;
  unkId: number;
  unkSurface: string;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  treatWhitespaceAsSuffix: boolean;
  byteFallback: boolean;
  /** True when the model carries denormalisation rules (applied to decoded text by the C++ library). */
  hasDenormalizer: boolean;
  modelType: number;
}

/** Why a file is not a SentencePiece model, in words for a message. */
export class SpmFormatError extends Error {}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw new SpmFormatError('it ends inside a number (truncated)');
      const b = this.bytes[this.pos++];
      // Values past 2^53 lose precision; every field read here is a small enum, flag or length.
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new SpmFormatError('a number runs past 10 bytes');
  }

  /** The next field as (number, wire type, value): a number or the bytes of a length-delimited one. */
  field(): { number: number; wire: number; value: number | Uint8Array } {
    const key = this.varint();
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (number === 0) throw new SpmFormatError('a field has number 0');
    switch (wire) {
      case 0:
        return { number, wire, value: this.varint() };
      case 1:
        return { number, wire, value: this.take(8) };
      case 2:
        return { number, wire, value: this.take(this.varint()) };
      case 5:
        return { number, wire, value: this.take(4) };
      default:
        throw new SpmFormatError(`a field uses protobuf wire type ${wire}`);
    }
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new SpmFormatError('a field runs past the end of the file (truncated)');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(value: number | Uint8Array, what: string): string {
  if (!(value instanceof Uint8Array)) throw new SpmFormatError(`${what} is not a string`);
  try {
    return utf8.decode(value);
  } catch {
    throw new SpmFormatError(`${what} is not valid UTF-8`);
  }
}

function fields(bytes: Uint8Array, visit: (number: number, value: number | Uint8Array) => void): void {
  const reader = new Reader(bytes);
  while (!reader.done) {
    const { number, value } = reader.field();
    visit(number, value);
  }
}

function message(value: number | Uint8Array, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new SpmFormatError(`${what} is not a message`);
  return value;
}

/** Parses a .spm file's bytes; throws SpmFormatError when they are not a SentencePiece model. */
export function parseSpmModel(bytes: Uint8Array): SpmModel {
  const pieces: string[] = [];
  const types: number[] = [];
  const model: Omit<SpmModel, 'pieces' | 'types' | 'ids' | 'unkId'> = {
    unkSurface: ' \u2047 ',
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    treatWhitespaceAsSuffix: false,
    byteFallback: false,
    hasDenormalizer: false,
    modelType: 1,
  };
  fields(bytes, (number, value) => {
    if (number === 1) {
      let piece: string | undefined;
      let type: number = PIECE_TYPE.NORMAL;
      fields(message(value, 'a piece'), (n, v) => {
        if (n === 1) piece = text(v, 'a piece');
        else if (n === 3) type = v as number;
      });
      if (piece === undefined) throw new SpmFormatError(`piece ${pieces.length} has no text`);
      if (type < 1 || type > 6) throw new SpmFormatError(`piece ${pieces.length} has unknown type ${type}`);
      pieces.push(piece);
      types.push(type);
    } else if (number === 2) {
      fields(message(value, 'the trainer spec'), (n, v) => {
        if (n === 3) model.modelType = v as number;
        else if (n === 24) model.treatWhitespaceAsSuffix = v === 1;
        else if (n === 35) model.byteFallback = v === 1;
        else if (n === 44) model.unkSurface = text(v, 'unk_surface');
      });
    } else if (number === 3) {
      fields(message(value, 'the normalizer spec'), (n, v) => {
        if (n === 3) model.addDummyPrefix = v === 1;
        else if (n === 4) model.removeExtraWhitespaces = v === 1;
      });
    } else if (number === 5) {
      fields(message(value, 'the denormalizer spec'), (n, v) => {
        if ((n === 2 || n === 6) && v instanceof Uint8Array && v.length > 0) model.hasDenormalizer = true;
      });
    }
  });
  if (pieces.length === 0) throw new SpmFormatError('it has no pieces');
  const ids = new Map<string, number>();
  pieces.forEach((p, i) => {
    if (!ids.has(p)) ids.set(p, i);
  });
  if (ids.size !== pieces.length) throw new SpmFormatError('a piece is listed twice');
  const unks = types.flatMap((t, i) => (t === PIECE_TYPE.UNKNOWN ? [i] : []));
  if (unks.length !== 1) throw new SpmFormatError(`it has ${unks.length} unknown-token pieces; a SentencePiece model has exactly one`);
  return { ...model, pieces, types, ids, unkId: unks[0] };
}

/** SentencePiece's Decode(pieces) for models without byte pieces or denormalisation rules:
 * control pieces vanish, `<unk>` becomes the unk surface, a piece the model lacks is kept as
 * written, "▁" becomes a space, and while nothing has been written yet a piece's leading "▁" is
 * dropped (the dummy prefix the encoder added). Mirrors sentencepiece_processor.cc's Decode. */
export function decodePieces(model: SpmModel, pieces: readonly string[]): string {
  let out = '';
  let bosWsSeen = false;
  let isBosWs = true;
  const dropLeading = model.addDummyPrefix || model.removeExtraWhitespaces;
  for (const piece of pieces) {
    if (bosWsSeen || out.length > 0) isBosWs = false;
    const id = model.ids.get(piece) ?? model.unkId;
    const type = model.types[id];
    if (type === PIECE_TYPE.CONTROL) {
      bosWsSeen = false;
      continue;
    }
    if (type === PIECE_TYPE.UNKNOWN) {
      out += model.pieces[id] === piece ? model.unkSurface : piece;
      bosWsSeen = false;
      continue;
    }
    let surface = piece;
    let consumed = false;
    if (isBosWs && dropLeading && surface.startsWith('\u2581')) {
      surface = surface.slice(1);
      consumed = true;
    }
    // With remove_extra_whitespaces every leading "▁" is dropped until text appears.
    bosWsSeen = consumed && !model.removeExtraWhitespaces;
    out += surface.replaceAll('\u2581', ' ');
  }
  return out;
}
