// What the run history shows of each kind of run: its label, a one-line digest for the list, why it
// cannot be compared, and a fine-tune's figures as table rows. Plain functions over the stored data.
import type { RunKind, RunListItem } from '../../../../shared/dto';
import type { FinetuneResult, Interval } from '../../../../shared/finetune';

export const KIND_LABEL: Record<RunKind, string> = { analysis: 'analysis', evaluation: 'evaluation', finetune: 'fine-tune', sweep: 'sweep' };

const fixed = (v: number | null | undefined, digits = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
/** acc is a fraction (0..1); shown in percent. */
const pct = (v: number | null) => (v === null ? '—' : `${fixed(100 * v)} %`);
const signed = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : `${v > 0 ? '+' : ''}${v.toFixed(1)} %`);

/** The list's one-line description of a run, by kind. */
export function digestLine(r: RunListItem): string {
  switch (r.kind) {
    case 'analysis':
      return `${r.layers.length} layers, ${r.segments} segments, ${r.settings.reduction}, gap ${r.gapRange ? `${r.gapRange[0].toFixed(1)} … ${r.gapRange[1].toFixed(1)} %` : '—'}`;
    case 'evaluation':
      return `${r.preset}, ${r.tasks.join('/') || 'no task'}${r.adapter ? `, adapter ${r.adapter}` : ''}; mean acc ${pct(r.meanAcc.before)}${r.meanAcc.after !== null ? ` → ${pct(r.meanAcc.after)}` : ''}`;
    case 'finetune':
      return `${r.outcome}, ${r.steps}/${r.stepsPlanned} steps; mean gain ${signed(r.meanGainPercent)}, English retention ${r.retentionPercent === null ? '—' : `${r.retentionPercent.toFixed(1)} %`}`;
    case 'sweep':
      return `${r.points} ${r.points === 1 ? 'point' : 'points'} (${r.pointsRan} trained now)${r.outDir ? ` in ${r.outDir}` : ''}`;
    default:
      // A kind a newer version stored (the backend lists it with why it cannot be opened).
      return '';
  }
}

/** The kind's label; a kind this version does not know is shown as stored. */
export const kindLabel = (kind: string): string => (Object.hasOwn(KIND_LABEL, kind) ? KIND_LABEL[kind as RunKind] : kind);

/** Why a run cannot be ticked for comparison, or null when it can: the comparison overlays two
 * analyses' per-layer gap and mean activation, which the other kinds do not have. */
export function compareRefusal(r: RunListItem): string | null {
  if (r.problem) return 'a damaged run cannot be compared';
  if (r.kind !== 'analysis') return `only analyses can be compared (this is ${r.kind === 'evaluation' ? 'an' : 'a'} ${kindLabel(r.kind)})`;
  return null;
}

export interface FigureRow {
  figure: string;
  value: string;
  interval: string;
}

const interval = (ci: Interval, digits: number) => (ci ? `[${ci[0].toFixed(digits)}, ${ci[1].toFixed(digits)}]` : 'none');

/** A fine-tune's held-out figures: activation gain per target language, English retention (both %
 * with 95 % bootstrap intervals) and the retention cosine, as the result states them. */
export function finetuneFigureRows(result: FinetuneResult): FigureRow[] {
  const r = result.report;
  return [
    ...Object.entries(r.gain_percent).map(([language, g]) => ({ figure: `activation gain ${language} %`, value: fixed(g.value, 2), interval: interval(g.ci, 2) })),
    { figure: 'English retention %', value: fixed(r.retention_percent.value, 2), interval: interval(r.retention_percent.ci, 2) },
    { figure: 'English retention cosine', value: fixed(r.retention_cosine.value, 4), interval: interval(r.retention_cosine.ci, 4) },
  ];
}
