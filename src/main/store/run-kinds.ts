// The kinds of stored run besides analyses — evaluations, fine-tunes and sweeps: the few list fields
// (digest) each keeps beside its stored result, the input hashes it records, and the structural
// check a stored result must pass to be opened (a row that fails is RUN_CORRUPT for that run alone).
import type { EvaluationRunListItem, FinetuneRunListItem, StoredSweepRequest, SweepRunListItem } from '../../shared/dto';
import type { EvalResult, SweepResult } from '../../shared/eval';
import type { FinetuneResult } from '../../shared/finetune';

export type ResultKind = 'evaluation' | 'finetune' | 'sweep';

export type EvaluationDigest = Pick<EvaluationRunListItem, 'model' | 'adapter' | 'preset' | 'tasks' | 'languages' | 'meanAcc'>;
export type FinetuneDigest = Pick<FinetuneRunListItem, 'model' | 'languages' | 'steps' | 'stepsPlanned' | 'outcome' | 'gainPercent' | 'meanGainPercent' | 'retentionPercent'>;
export type SweepDigest = Pick<SweepRunListItem, 'model' | 'languages' | 'points' | 'pointsRan'>;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Unweighted mean of the finite values; null when there is none. */
const meanOf = (values: unknown[]): number | null => {
  const xs = values.filter(finite);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
};
const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

export function evaluationDigest(result: EvalResult): EvaluationDigest {
  return {
    model: result.model,
    adapter: result.adapter,
    preset: result.preset,
    tasks: unique(result.results.map((r) => r.task)),
    languages: unique(result.results.map((r) => r.language)),
    meanAcc: {
      before: meanOf(result.results.map((r) => r.before.acc)),
      after: meanOf(result.results.filter((r) => r.after).map((r) => r.after!.acc)),
    },
  };
}

export function finetuneDigest(result: FinetuneResult): FinetuneDigest {
  const gainPercent = Object.fromEntries(Object.entries(result.report.gain_percent).map(([language, g]) => [language, finite(g.value) ? g.value : null]));
  return {
    model: result.config.model,
    languages: result.config.languages,
    steps: result.steps,
    stepsPlanned: result.stepsPlanned,
    outcome: result.outcome,
    gainPercent,
    meanGainPercent: meanOf(Object.values(gainPercent)),
    retentionPercent: finite(result.report.retention_percent.value) ? result.report.retention_percent.value : null,
  };
}

export function sweepDigest(result: SweepResult, request: StoredSweepRequest): SweepDigest {
  return { model: request.model, languages: request.languages, points: result.points.length, pointsRan: result.points.filter((p) => p.status === 'ran').length };
}

/** What a result names of its inputs' content: the task files' sha256 (evaluation), the base model's
 * and SAEs' fingerprints (fine-tune, from its held-out analysis before training). */
export function resultFingerprints(kind: ResultKind, result: unknown): unknown {
  if (kind === 'evaluation') return { files: (result as EvalResult).files.map((f) => ({ path: f.path, sha256: f.sha256 })) };
  if (kind === 'finetune') {
    const before = (result as FinetuneResult).analysis.before;
    return { model: before.model.fingerprint, saes: before.saes.map((s) => ({ layer: s.layer, source: s.source, fingerprint: s.fingerprint })) };
  }
  return {};
}

export const EMPTY_DIGESTS = {
  evaluation: { model: '', adapter: null, preset: '', tasks: [], languages: [], meanAcc: { before: null, after: null } } satisfies EvaluationDigest,
  finetune: { model: '', languages: [], steps: 0, stepsPlanned: 0, outcome: 'completed', gainPercent: {}, meanGainPercent: null, retentionPercent: null } satisfies FinetuneDigest,
  sweep: { model: '', languages: [], points: 0, pointsRan: 0 } satisfies SweepDigest,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a stored result has the structure the run's viewer reads (not a full schema: the
 * result types grow; a row that fails is reported, never shown half). */
export function resultReadable(kind: ResultKind, result: unknown): boolean {
  if (!isObject(result)) return false;
  if (kind === 'evaluation') {
    return (
      typeof result.model === 'string' &&
      typeof result.preset === 'string' &&
      Array.isArray(result.files) &&
      isObject(result.cache) &&
      Array.isArray(result.results) &&
      result.results.every((r) => isObject(r) && typeof r.task === 'string' && typeof r.language === 'string' && isObject(r.before))
    );
  }
  if (kind === 'finetune') {
    const { config, report } = result;
    return (
      typeof result.outcome === 'string' &&
      typeof result.adapterDir === 'string' &&
      typeof result.steps === 'number' &&
      isObject(result.final) &&
      isObject(config) &&
      Array.isArray(config.adaptLayers) &&
      Array.isArray(config.lossLayers) &&
      isObject(report) &&
      isObject(report.gain_percent) &&
      Object.values(report.gain_percent).every(isObject) &&
      isObject(report.retention_percent) &&
      isObject(report.retention_cosine)
    );
  }
  return (
    typeof result.outDir === 'string' &&
    Array.isArray(result.points) &&
    result.points.every(
      (p) => isObject(p) && typeof p.name === 'string' && Array.isArray(p.adaptLayers) && isObject(p.gain_percent) && isObject(p.retention_percent) && Array.isArray(p.accuracy),
    )
  );
}
