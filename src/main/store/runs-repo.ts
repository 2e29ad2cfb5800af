// Stored results. `record`/`count`: the reproducibility log of every computation (analysis_runs,
// written by the services). The rest: the run history the user sees (runs), written by the
// handlers when an analysis finishes — listed, opened from the stored summary (never recomputed),
// renamed and deleted. A row that cannot be read is an error for that run alone.
import { createHash } from 'node:crypto';
import type { DisparitySummary, RunFingerprints, RunListItem, RunRecord, StoredAnalysisRequest } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { storeCall, type Db } from './db';

export interface NewRun {
  method: RunListItem['method'];
  name: string;
  jobId: string | null;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  request: StoredAnalysisRequest;
  summary: DisparitySummary;
}

/** The list fields kept beside the summary (so listing never parses summaries). */
type Digest = Pick<RunListItem, 'model' | 'languages' | 'layers' | 'segments' | 'corpus' | 'settings' | 'gapRange'>;

interface Row {
  id: number;
  kind: 'analysis';
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

function listItem(row: Omit<Row, 'request_json' | 'fingerprints_json' | 'summary_json'>): RunListItem {
  let digest = EMPTY_DIGEST;
  let problem: string | null = null;
  try {
    digest = { ...EMPTY_DIGEST, ...(JSON.parse(row.digest_json) as Digest) };
  } catch {
    problem = damaged(row, 'description');
  }
  return {
    id: row.id,
    kind: row.kind,
    method: row.method,
    name: row.name,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    seconds: row.seconds,
    outDir: row.out_dir,
    summarySha256: row.summary_sha256,
    ...digest,
    problem,
  };
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

  /** Newest first; `summarySha256` keeps the runs whose stored summary has that hash. */
  list(options: { limit?: number; summarySha256?: string } = {}): RunListItem[] {
    const rows = storeCall('list the runs', () =>
      options.summarySha256
        ? this.db.prepare(`SELECT ${LIST_COLUMNS} FROM runs WHERE summary_sha256 = ? ORDER BY finished_at DESC, id DESC LIMIT ?`).all(options.summarySha256, options.limit ?? -1)
        : this.db.prepare(`SELECT ${LIST_COLUMNS} FROM runs ORDER BY finished_at DESC, id DESC LIMIT ?`).all(options.limit ?? -1),
    ) as Row[];
    return rows.map(listItem);
  }

  item(id: number): RunListItem {
    const row = storeCall('read the run', () => this.db.prepare(`SELECT ${LIST_COLUMNS} FROM runs WHERE id = ?`).get(id) as Row | undefined);
    if (!row) throw notFound(id);
    return listItem(row);
  }

  /** The stored run with its summary as it was returned; RUN_CORRUPT for a row that cannot be read. */
  get(id: number): RunRecord {
    const row = storeCall('read the run', () => this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined);
    if (!row) throw notFound(id);
    const item = listItem(row);
    if (item.problem) throw new ApiError('RUN_CORRUPT', item.problem, { id });
    const parse = <T>(text: string, what: string): T => {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError('RUN_CORRUPT', damaged(row, what), { id });
      }
    };
    const summary = parse<DisparitySummary>(row.summary_json, 'summary');
    if (typeof summary !== 'object' || summary === null || !Array.isArray(summary.layers) || !Array.isArray(summary.languages)) {
      throw new ApiError('RUN_CORRUPT', damaged(row, 'summary'), { id });
    }
    return {
      ...item,
      request: parse<StoredAnalysisRequest>(row.request_json, 'request'),
      fingerprints: parse<RunFingerprints>(row.fingerprints_json, 'fingerprints'),
      summary,
    };
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
