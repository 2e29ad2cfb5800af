// The first thing the Results step says: what the analysis found (see findings.ts), before any
// chart, setting or formula.
import { useEffect, useState } from 'react';
import type { DemoInfo, DisparitySummary } from '../../../../shared/dto';
import { TIER_LABELS } from '../../../../shared/tiers';
import { api } from '../../api';
import { pct } from './data';
import { findings } from '../../../../shared/findings';

export function Findings({ summary }: { summary: DisparitySummary }) {
  const [demo, setDemo] = useState<DemoInfo | null>(null);
  useEffect(() => {
    let live = true;
    // Only to tell whether the demo's stated reason for its settings applies; without it the
    // setting and its formula are shown.
    api.demo.info({}).then(
      (d) => live && setDemo(d),
      () => live && setDemo(null),
    );
    return () => {
      live = false;
    };
  }, []);
  const f = findings(summary, demo);
  const g = f.gap;
  return (
    <section className="findings" data-testid="findings" aria-labelledby="findings-heading">
      <h3 id="findings-heading">What was found</h3>
      <ul>
        <li data-testid="finding-gap">
          {g ? (
            <>
              <strong>Gap between the tiers</strong> (high vs medium/low-resource):{' '}
              {g.min.layer === g.max.layer ? (
                <>
                  {pct(g.max.value)} at layer {g.max.layer}
                </>
              ) : (
                <>
                  from {pct(g.min.value)} (layer {g.min.layer}) to {pct(g.max.value)} (layer {g.max.layer})
                </>
              )}{' '}
              over {g.defined === g.total ? `the ${g.total} layers` : `${g.defined} of the ${g.total} layers`}; its 95 % interval lies above 0 at {g.ciAboveZero}{' '}
              of them. {f.gapReason}
            </>
          ) : (
            <>
              <strong>No gap:</strong> {f.gapReason}
            </>
          )}
        </li>
        <li data-testid="finding-affected">
          <strong>Most affected languages</strong> (mean deficit against English over the layers):{' '}
          {f.affected.length ? (
            f.affected.map((a, i) => (
              <span key={a.code} data-code={a.code}>
                {i > 0 && '; '}
                {a.name} ({a.code}, {TIER_LABELS[a.tier]}) {pct(a.meanDeficit)} below English, most at layer {a.worst.layer} ({pct(a.worst.value)})
              </span>
            ))
          ) : f.compared ? (
            <>no language activates the features less than English on average.</>
          ) : (
            <>no other language has a defined deficit (English activates nothing, or only English was chosen).</>
          )}
        </li>
        {f.fidelity.count > 0 ? (
          <li className="warning" data-testid="fidelity-banner">
            <strong>
              {f.fidelity.count} fidelity {f.fidelity.count === 1 ? 'warning' : 'warnings'}
            </strong>{' '}
            ({f.fidelity.languages.join(', ')}; {f.fidelity.layers.length === 1 ? 'layer' : 'layers'} {f.fidelity.layers.join(', ')}): the SAEs reconstruct
            these languages much worse than English there, so read those activations with care (highlighted under SAE fidelity).
          </li>
        ) : (
          <li data-testid="finding-fidelity">
            <strong>No fidelity warning:</strong> every SAE reconstructs every language about as well as English.
          </li>
        )}
        <li data-testid="finding-reduction">
          <strong>Why reduction = {f.reduction.setting}</strong>
          {f.reduction.from === 'demo' ? ' (the bundled demo\'s setting)' : ''}: {f.reduction.reason}
        </li>
      </ul>
    </section>
  );
}
