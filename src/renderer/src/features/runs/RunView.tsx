// A stored evaluation, fine-tune or sweep opened from the run history, read-only, from its stored
// result (nothing recomputed): the Evaluate step's results and sweep comparison views, or a
// fine-tune's figures. Analyses open in the Results step instead.
import type { EvaluationRunRecord, FinetuneRunRecord, SweepRunRecord } from '../../../../shared/dto';
import { useTiers } from '../../components/tiers';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { EvaluateResults } from '../evaluate/EvaluateResults';
import { SweepComparison } from '../evaluate/SweepComparison';
import { FinetuneRunSummary } from './FinetuneRunSummary';
import { KIND_LABEL } from './run-figures';

export function RunView({ run, onClose }: { run: EvaluationRunRecord | FinetuneRunRecord | SweepRunRecord; onClose: () => void }) {
  const selected = useStore(wizard, (w) => w.selected);
  const tiers = useTiers();
  return (
    <section className="run-view" aria-label={`stored ${KIND_LABEL[run.kind]} ${run.name}`} data-testid="run-view" data-kind={run.kind} data-run={run.id}>
      <h3>
        {run.name} <span className="hint">({KIND_LABEL[run.kind]}, finished {new Date(run.finishedAt).toLocaleString()}, stored result)</span>
      </h3>
      <p>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </p>
      {run.kind === 'evaluation' && <EvaluateResults result={run.result} projectLanguages={selected} tiers={tiers} />}
      {run.kind === 'finetune' && <FinetuneRunSummary result={run.result} />}
      {run.kind === 'sweep' && <SweepComparison result={run.result} />}
    </section>
  );
}
