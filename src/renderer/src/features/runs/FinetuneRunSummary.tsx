// A stored fine-tune, read-only: how it ended, where its adapter is, and its held-out figures (gain
// per target language, English retention) with their intervals, from the stored result.
import type { FinetuneResult } from '../../../../shared/finetune';
import { finetuneFigureRows } from './run-figures';

export function FinetuneRunSummary({ result }: { result: FinetuneResult }) {
  return (
    <div data-testid="finetune-run-summary">
      <p>
        {result.outcome} after {result.steps} of {result.stepsPlanned} steps ({result.reason}); adapter <code>{result.adapterDir}</code>; layers adapted{' '}
        {result.config.adaptLayers.join(', ')}, loss on {result.config.lossLayers.join(', ')}.
      </p>
      <table className="run-figures">
        <caption>On the {result.report.segments} held-out segments, before and after the adapter (95 % bootstrap intervals, {result.report.bootstrap} resamples)</caption>
        <thead>
          <tr>
            <th scope="col">figure</th>
            <th scope="col" className="num">value</th>
            <th scope="col" className="num">95 % interval</th>
          </tr>
        </thead>
        <tbody>
          {finetuneFigureRows(result).map((r) => (
            <tr key={r.figure}>
              <th scope="row">{r.figure}</th>
              <td className="num">{r.value}</td>
              <td className="num">{r.interval}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
