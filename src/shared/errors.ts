// Typed errors that cross every front door as plain data: {code, message, details?}.
// `message` is one line a person can act on; `code` is what programs branch on.

export const ERROR_CODES = [
  'INVALID_ARGUMENT', // payload failed the contract's schema
  'UNKNOWN_METHOD',
  'UNKNOWN_LANGUAGE', // not in the registry and not addable
  'LANGUAGE_ALREADY_REGISTERED', // an add of a language the registry has, under any spelling (details: code, registered)
  'REFERENCE_LANGUAGE_FIXED', // a tier change that would make a second reference or leave none (English is the reference)
  'LANGUAGE_NOT_REMOVABLE', // removing one of the paper's preset languages (deselect it instead)
  'LANGUAGE_NOT_IN_CORPUS', // the corpus has no text for this language
  'TOKENIZER_NOT_FOUND', // folder/file missing, or folder without tokenizer.json
  'TOKENIZER_UNREADABLE', // unreadable, not UTF-8, not JSON, or not a tokenizer
  'TOKENIZER_TIMEOUT', // tokenizing one text (or loading) ran past the time limit (details: file, limitMs)
  'OUTPUT_NOT_WRITABLE',
  'OUTPUT_EXISTS', // the output path holds a file/folder/link LinguaScope did not write (details: path)
  'DISK_FULL', // a write ran out of space or quota; earlier output is unchanged (details: path)
  'WEIGHTS_NOT_FOUND', // a weight file or shard named by an index is missing
  'WEIGHTS_INVALID', // truncated, malformed or inconsistent weight file (names file and tensor)
  'GRAPH_ERROR', // a graph that cannot be built: shape mismatch, an op without a gradient rule
  'RUNTIME_ERROR', // onnxruntime refused or failed a session
  'CANCELLED',
  'TRAINING_DIVERGED', // a training loss turned NaN/Inf; the last good checkpoint is kept (details: checkpoint)
  'JOB_NOT_FOUND', // a job id the backend never issued (or one that left the bounded history) (details: jobId)
  'JOB_RESULT_EXPIRED', // the job ended but its value is no longer kept; its outcome summary is (details: jobId, state)
  'PROJECT_NOT_FOUND', // a project id that does not exist (deleted, or never created) (details: id)
  'PROJECT_CORRUPT', // a project whose stored state cannot be read; other projects are unaffected (details: id)
  'CONFLICT', // a save based on an older revision: another window saved first (details: id, revision)
  'RUN_NOT_FOUND', // a stored run id that does not exist (deleted, or never recorded) (details: id)
  'RUN_CORRUPT', // a stored run whose row cannot be read; other runs are unaffected (details: id)
  'NEURONPEDIA_NOT_FOUND', // a Neuronpedia export folder, source, batch file or feature that is not there (details: file or feature)
  'NEURONPEDIA_INVALID', // a Neuronpedia file not in the export format: not gzip, cut short, a line not JSON or over the size limit, a field missing or out of range, another model or source (details: file, line, field)
  'PRECISION_GATE_FAILED', // a fast-precision run whose fidelity gate measured differences past the tolerance (details: the gate's figures and thresholds)
  'NOT_AVAILABLE', // e.g. a native dialog in the browser harness
  'STORE_ERROR',
  'PROTOCOL_ERROR', // a message that is not a call: not UTF-8/JSON, binary, or a bad envelope
  'PAYLOAD_TOO_LARGE', // a message over the transport's size limit (details: limit, bytes, field)
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ApiErrorData {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error implements ApiErrorData {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }

  toData(): ApiErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromData(data: ApiErrorData): ApiError {
    return new ApiError(data.code, data.message, data.details);
  }
}

export function isApiErrorData(value: unknown): value is ApiErrorData {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiErrorData).code === 'string' &&
    (ERROR_CODES as readonly string[]).includes((value as ApiErrorData).code) &&
    typeof (value as ApiErrorData).message === 'string'
  );
}
