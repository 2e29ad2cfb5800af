// Stored results. `record`/`count`: the reproducibility log of every computation (analysis_runs,
// written by the services). The rest: the run history the user sees (runs), written by the
// handlers when an analysis, evaluation, fine-tune or sweep finishes — listed, opened from the
// stored summary or result (never recomputed), renamed and deleted. A row that cannot be read is
// an error for that run alone.
import { createHash } from 'node:crypto';
import type {
  AnalysisRunListItem,
  AnalysisRunRecord,
  DisparitySummary,
  RunFingerprints,
  RunKind,
  RunListItem,
  RunRecord,
  StoredAnalysisRequest,
  StoredEvalRequest,
  StoredFinetuneRequest,
  StoredSweepRequest,
} from '../../shared/dto';
import type { EvalResult, SweepResult } from '../../shared/eval';
import type { FinetuneResult } from '../../shared/finetune';
import { ApiError } from '../../shared/errors';
import { storeCall, type Db } from './db';
import { EMPTY_DIGESTS, evaluationDigest, finetuneDigest, resultFingerprints, resultReadable, sweepDigest, type ResultKind } from './run-kinds';

export interface NewRun {
  method: AnalysisRunListItem['method'];
  name: string;
  jobId: string | null;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  request: StoredAnalysisRequest;
  summary: DisparitySummary;
}

interface NewResultCommon {
  name: string;
  jobId: string | null;
  startedAt: string;
  finishedAt: string;
  seconds: number;
}

/** A finished evaluation, fine-tune or sweep: its request (jobId left out) and result as returned. */
export type NewResultRun = NewResultCommon &
  (
    | { kind: 'evaluation'; request: StoredEvalRequest; result: EvalResult }
    | { kind: 'finetune'; request: StoredFinetuneRequest; result: FinetuneResult }
    | { kind: 'sweep'; request: StoredSweepRequest; result: SweepResult }
  );

const METHOD_OF = { evaluation: 'eval.run', finetune: 'finetune.run', sweep: 'sweep.run' } as const;

/** The list fields kept beside the summary (so listing never parses summaries). */
type Digest = Pick<AnalysisRunListItem, 'model' | 'languages' | 'layers' | 'segments' | 'corpus' | 'settings' | 'gapRange'>;

interface Row {
  id: number;
  kind: RunKind;
  method: RunListItem['method'];
  name: string;
  started_at: string;
  finished_at: string;
  seconds: number;
  out_dir: string | null;
  request_json: string;
  fingerprints_json: string;
  digest_json: string;
  summary_json: string;
  summary_sha256: string;
}

const LIST_COLUMNS = 'id, kind, method, name, started_at, finished_at, seconds, out_dir, digest_json, summary_sha256';

export function digestOf(summary: DisparitySummary): Digest {
  const gaps = summary.gap_percent.filter((g): g is number => typeof g === 'number' && Number.isFinite(g));
  return {
    model: summary.model.path,
    languages: summary.languages.map((l) => l.code),
    layers: summary.layers,
    segments: summary.segments,
    corpus: summary.corpus.source,
    settings: summary.settings,
    gapRange: gaps.length ? [Math.min(...gaps), Math.max(...gaps)] : null,
  };
}

export function fingerprintsOf(summary: DisparitySummary): RunFingerprints {
  return { model: summary.model.fingerprint, saes: summary.saes.map((s) => ({ layer: s.layer, source: s.source, fingerprint: s.fingerprint })) };
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const EMPTY_DIGEST: Digest = {
  model: '',
  languages: [],
  layers: [],
  segments: 0,
  corpus: '',
  settings: { reduction: 'mean', features: 'english-active', includeBos: false, bootstrap: 0, seed: 0, fidelityWarnDrop: 0, topFeatures: 0, keepFeatures: 1 },
  gapRange: null,
};

const damaged = (row: Pick<Row, 'id' | 'name'>, what: string) =>
  `the stored ${what} of run "${row.name}" (id ${row.id}) cannot be read; delete the run (other runs are unaffected)`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a digest field holds: 'array', 'object', 'string', 'number', 'boolean' or 'null'. */
const shapeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** The list fields that may be null, with what they hold otherwise. */
const NULLABLE: Record<string, string> = { gapRange: 'array', adapter: 'string', meanGainPercent: 'number', retentionPercent: 'number' };

/** The stored digest's fields of the kind's digest, over its empty one: a stored key of another
 * name (id, kind, name…) never reaches the list item, and a field of the wrong shape (which would
 * break whoever lists it) makes the digest unreadable: null. */
function digestFields<T extends object>(empty: T, stored: Record<string, unknown> | null): T | null {
  const out = { ...empty } as Record<string, unknown>;
  for (const [key, fallback] of Object.entries(empty)) {
    if (!stored || !Object.hasOwn(stored, key)) continue;
    const shape = shapeOf(stored[key]);
    if (shape !== shapeOf(fallback) && !(fallback === null && shape === NULLABLE[key]) && !(shape === 'null' && NULLABLE[key])) return null;
    out[key] = stored[key];
  }
  return out as T;
}

function listItem(row: Omit<Row, 'request_json' | 'fingerprints_json' | 'summary_json'>): RunListItem {
  let parsed: Record<string, unknown> | null = null;
  try {
    const value: unknown = JSON.parse(row.digest_json);
    if (isObject(value)) parsed = value;
  } catch {
    // reported below
  }
  const fields = <T extends object>(empty: T) => digestFields(empty, parsed);
  const problem = parsed && fields(row.kind === 'analysis' ? EMPTY_DIGEST : (EMPTY_DIGESTS[row.kind as ResultKind] ?? {})) ? null : damaged(row, 'description');
  const common = {
    id: row.id,
    name: row.name,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    seconds: row.seconds,
    outDir: row.out_dir,
    summarySha256: row.summary_sha256,
  };
  if (row.kind === 'analysis') {
    return { ...common, kind: 'analysis', method: row.method as AnalysisRunListItem['method'], ...(fields(EMPTY_DIGEST) ?? EMPTY_DIGEST), problem };
  }
  const kind = row.kind;
  if (!Object.hasOwn(METHOD_OF, kind)) {
    // A kind this version does not know (a newer LinguaScope's, on a shared database file): listed
    // so it can be deleted, never opened. Its list fields are unknown, so none is given.
    const why = `run "${row.name}" (id ${row.id}) is a ${JSON.stringify(String(kind)).slice(0, 60)} run, which this version of LinguaScope cannot open; open it with the version that made it, or delete it`;
    return { ...common, kind, method: row.method, languages: [], problem: why } as unknown as RunListItem;
  }
  // The method follows from the kind (the table's CHECK); the digest is that kind's.
  return { ...common, kind, method: METHOD_OF[kind], ...(fields<object>(EMPTY_DIGESTS[kind]) ?? EMPTY_DIGESTS[kind]), problem } as RunListItem;
}

const notFound = (id: number) => new ApiError('RUN_NOT_FOUND', `run ${id} does not exist (it was deleted, or never recorded); choose another run`, { id });

export class RunsRepo {
  constructor(private readonly db: Db) {}

  record(kind: string, settings: unknown, result: unknown): number {
    const info = storeCall('record the run', () =>
      this.db
        .prepare('INSERT INTO analysis_runs (kind, created_at, settings_json, result_json) VALUES (?, ?, ?, ?)')
        .run(kind, new Date().toISOString(), JSON.stringify(settings), JSON.stringify(result)),
    );
    return Number(info.lastInsertRowid);
  }

  count(kind?: string): number {
    const row = (kind
      ? this.db.prepare('SELECT COUNT(*) AS n FROM analysis_runs WHERE kind = ?').get(kind)
      : this.db.prepare('SELECT COUNT(*) AS n FROM analysis_runs').get()) as { n: number };
    return row.n;
  }

  /** Adds a finished analysis to the run history. */
  add(run: NewRun): RunListItem {
    const summaryJson = JSON.stringify(run.summary);
    const info = storeCall('store the run', () =>
      this.db
        .prepare(
          `INSERT INTO runs (kind, method, name, job_id, started_at, finished_at, seconds, out_dir, request_json, fingerprints_json, digest_json, summary_json, summary_sha256)
           VALUES ('analysis', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.method,
          run.name,
          run.jobId,
          run.startedAt,
          run.finishedAt,
          run.seconds,
          run.request.outDir,
          JSON.stringify(run.request),
          JSON.stringify(fingerprintsOf(run.summary)),
          JSON.stringify(digestOf(run.summary)),
          summaryJson,
          sha256(summaryJson),
        ),
    );
    return this.item(Number(info.lastInsertRowid));
  }

  /** Adds a finished evaluation, fine-tune or sweep to the run history. */
  addResult(run: NewResultRun): RunListItem {
    const resultJson = JSON.stringify(run.result);
    const digest =
      run.kind === 'evaluation' ? evaluationDigest(run.result) : run.kind === 'finetune' ? finetuneDigest(run.result) : sweepDigest(run.result, run.request);
    const info = storeCall('store the run', () =>
      this.db
        .prepare(
          `INSERT INTO runs (kind, method, name, job_id, started_at, finished_at, seconds, out_dir, request_json, fingerprints_json, digest_json, summary_json, summary_sha256)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.kind,
          METHOD_OF[run.kind],
          run.name,
          run.jobId,
          run.startedAt,
          run.finishedAt,
          run.seconds,
          run.result.outDir,
          JSON.stringify(run.request),
          JSON.stringify(resultFingerprints(run.kind, run.result)),
          JSON.stringify(digest),
          resultJson,
          sha256(resultJson),
        ),
    );
    return this.item(Number(info.lastInsertRowid));
  }

  /** Newest first; `summarySha256` keeps the runs whose stored summary (or result) has that hash,
   * `kind` the runs of that kind, `jobId` the runs that job stored (a study's stages). */
  list(options: { limit?: number; summarySha256?: string; kind?: RunKind; jobId?: string } = {}): RunListItem[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.summarySha256) (where.push('summary_sha256 = ?'), params.push(options.summarySha256));
    if (options.kind) (where.push('kind = ?'), params.push(options.kind));
    if (options.jobId) (where.push('job_id = ?'), params.push(options.jobId));
    const sql = `SELECT ${LIST_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY finished_at DESC, id DESC LIMIT ?`;
    const rows = storeCall('list the runs', () => this.db.prepare(sql).all(...params, options.limit ?? -1)) as Row[];
    return rows.map(listItem);
  }

  item(id: number): RunListItem {
    const row = storeCall('read the run', () => this.db.prepare(`SELECT ${LIST_COLUMNS} FROM runs WHERE id = ?`).get(id) as Row | undefined);
    if (!row) throw notFound(id);
    return listItem(row);
  }

  /** The stored run with its summary (or result) as it was returned; RUN_CORRUPT for a row that
   * cannot be read. */
  get(id: number): RunRecord {
    const row = storeCall('read the run', () => this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined);
    if (!row) throw notFound(id);
    const item = listItem(row);
    if (item.problem) throw new ApiError('RUN_CORRUPT', item.problem, { id });
    const parse = <T>(text: string, what: string): T => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new ApiError('RUN_CORRUPT', damaged(row, what), { id });
      }
      if (!isObject(value)) throw new ApiError('RUN_CORRUPT', damaged(row, what), { id });
      return value as T;
    };
    if (item.kind !== 'analysis') {
      const result = parse<unknown>(row.summary_json, 'result');
      if (!resultReadable(item.kind as ResultKind, result)) throw new ApiError('RUN_CORRUPT', damaged(row, 'result'), { id });
      const request = parse<never>(row.request_json, 'request');
      if (item.kind === 'finetune') return { ...item, request, fingerprints: parse<RunFingerprints>(row.fingerprints_json, 'fingerprints'), result: result as FinetuneResult };
      return { ...item, request, result } as RunRecord;
    }
    const summary = parse<DisparitySummary>(row.summary_json, 'summary');
    if (!Array.isArray(summary.layers) || !Array.isArray(summary.languages)) {
      throw new ApiError('RUN_CORRUPT', damaged(row, 'summary'), { id });
    }
    return {
      ...item,
      request: parse<StoredAnalysisRequest>(row.request_json, 'request'),
      fingerprints: parse<RunFingerprints>(row.fingerprints_json, 'fingerprints'),
      summary,
    };
  }

  /** A stored analysis (what the Results step and the correlation read): a run of another kind is
   * INVALID_ARGUMENT naming its kind. */
  getAnalysis(id: number): AnalysisRunRecord {
    const run = this.get(id);
    if (run.kind !== 'analysis') {
      throw new ApiError('INVALID_ARGUMENT', `run ${id} ("${run.name}") is ${run.kind === 'evaluation' ? 'an' : 'a'} ${run.kind}, not a disparity analysis; choose an analysis run`, { id, kind: run.kind });
    }
    return run;
  }

  rename(id: number, name: string): RunListItem {
    const changed = storeCall('rename the run', () => this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(name, id).changes);
    if (changed === 0) throw notFound(id);
    return this.item(id);
  }

  delete(id: number): void {
    const changed = storeCall('delete the run', () => this.db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes);
    if (changed === 0) throw notFound(id);
  }
}
