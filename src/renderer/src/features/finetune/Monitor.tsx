// The live monitor of the run in the chosen folder: where it is (step x/y, elapsed < remaining,
// tokens/s, memory), its curves over the whole log, its checkpoints (resume from any) and its full
// configuration beside the curves.
import { useState } from 'react';
import type { Tier } from '../../../../shared/dto';
import type { FinetuneConfigRecord, FinetuneStatus } from '../../../../shared/finetune';
import { Progress } from '../../components/Progress';
import { useStore } from '../../state/store';
import { EMA_BETAS } from './ema';
import { clock, evalRecords, runClock, stepRecords } from './log';
import { cancelFinetune, monitor, resumeFinetune } from './monitor';
import { EvalCurves, TrainingCurves } from './MonitorCharts';
import { layerText } from './settings';

function ConfigView({ config }: { config: FinetuneConfigRecord }) {
  const s = config.settings;
  const rows: [string, string][] = [
    ['model', config.model],
    ['languages', config.languages.join(', ')],
    ['SAEs', `${config.saes.length} (${config.saes.map((p) => p.split(/[\\/]/).at(-1)).join(', ')})`],
    ['adapted layers', layerText(config.adaptLayers)],
    ['loss layers', layerText(config.lossLayers)],
    ['LoRA', `rank ${s.lora.rank}, alpha ${s.lora.alpha}${s.lora.rslora ? ', rsLoRA' : ''}, scale ${config.scale}, ${config.modules} linears (${s.lora.modules.join(', ')})`],
    ['loss', `space ${s.loss.space}, direction ${s.loss.direction}, reduction ${s.loss.reduction}, normalisation ${s.loss.normalisation}, features ${s.loss.features}, α ${s.loss.alpha}`],
    ['optimiser', `AdamW lr ${s.optim.lr}, warmup ${s.optim.warmup}, final ratio ${s.optim.minLrRatio}, β ${s.optim.beta1}/${s.optim.beta2}, ε ${s.optim.eps}, decay ${s.optim.weightDecay}, clip ${s.optim.clipNorm}`],
    ['data', `${config.split.trainPairs} training pairs (${config.split.availablePairs} available) from ${config.split.trainSegments.length} segments; ${config.split.heldOutSegments.length} held-out segments (${config.split.heldOutPairs} pairs); batch ${s.data.batchPairs}; seed ${s.data.seed}`],
    ['steps', `${config.stepsPlanned}${s.steps === null ? ` (${s.data.passes} passes)` : ''}`],
    ['monitoring', `evaluate every ${s.monitor.evalEvery}, checkpoint every ${s.monitor.checkpointEvery} (keep ${s.monitor.keepCheckpoints}), patience ${s.monitor.patience ?? 'off'}, watchdog ${s.monitor.watchdog.threshold === null ? 'off' : `${s.monitor.watchdog.threshold} for ${s.monitor.watchdog.steps} steps`}`],
  ];
  return (
    <aside className="run-config" aria-label="run configuration" data-testid="run-config">
      <h4>Configuration</h4>
      <dl>
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <pre className="formula">{config.formula}</pre>
      {config.notes.length > 0 && (
        <ul className="notes">
          {config.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </aside>
  );
}

function Checkpoints({ checkpoints, running }: { checkpoints: FinetuneStatus['checkpoints']; running: boolean }) {
  if (checkpoints.length === 0) return <p className="hint">No checkpoint yet.</p>;
  return (
    <table className="checkpoints" data-testid="checkpoints">
      <caption>Checkpoints (resume continues bit-identically from one; the log after it is rewritten)</caption>
      <thead>
        <tr>
          <th scope="col">step</th>
          <th scope="col">file</th>
          <th scope="col">
            <span className="visually-hidden">action</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {checkpoints.map((c) => (
          <tr key={c.step} data-step={c.step}>
            <td className="num">{c.step}</td>
            <td>
              <code>{c.file}</code>
            </td>
            <td>
              <button type="button" disabled={running} onClick={() => void resumeFinetune(c.step)}>
                Resume from here<span className="visually-hidden"> (step {c.step})</span>
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Monitor({ tiers }: { tiers: Record<string, Tier> }) {
  const state = useStore(monitor, (s) => s);
  const [beta, setBeta] = useState<number | null>(null);
  const { config, records } = state;
  if (!config && state.jobId === null) return null;
  const running = state.jobId !== null;
  const steps = stepRecords(records);
  const evals = evalRecords(records);
  const total = config?.stepsPlanned ?? state.progress?.total ?? 0;
  const c = runClock(records, total);
  const targets = (config?.languages ?? []).filter((l) => l !== 'en').map((code) => ({ code, tier: tiers[code] ?? ('medium-low' as Tier) }));
  return (
    <section className="finetune-monitor" aria-labelledby="ft-monitor-heading" data-testid="finetune-monitor">
      <h3 id="ft-monitor-heading">Monitor</h3>
      {state.reattached && running && (
        <p className="notice" data-testid="finetune-reattached">
          Following the fine-tune that kept running in the backend while this page was away; the curves include every step logged meanwhile.
        </p>
      )}
      <p className="run-clock" data-testid="run-clock">
        step {c.step}/{total || '?'}, {clock(c.elapsed)} &lt; {c.remaining === null ? '?' : clock(c.remaining)}
        {c.tokensPerS !== null && `, ${Number(c.tokensPerS.toPrecision(4))} tokens/s`}
        {c.rssMib !== null && `, ${c.rssMib} MiB resident`}
        {' · '}
        <span data-testid="logged-steps">{steps.length} steps logged</span>, {evals.length} evaluations
      </p>
      {running && (
        <Progress
          label="fine-tune progress"
          progress={state.progress}
          onCancel={() => void cancelFinetune()}
          cancelling={state.cancelling}
        />
      )}
      <div className="monitor-layout">
        <div className="monitor-curves">
          <fieldset className="smoothing">
            <legend>Moving average</legend>
            <label>
              <input type="radio" name="ft-ema" checked={beta === null} onChange={() => setBeta(null)} /> raw only
            </label>
            {EMA_BETAS.map((b) => (
              <label key={b}>
                <input type="radio" name="ft-ema" checked={beta === b} onChange={() => setBeta(b)} /> debiased EMA β = {b}
              </label>
            ))}
          </fieldset>
          <TrainingCurves steps={steps} evals={evals} beta={beta} alpha={config?.settings.loss.alpha ?? 1} />
          <h4>Held-out evaluations</h4>
          {evals.length === 0 ? <p className="hint">No evaluation yet (every {config?.settings.monitor.evalEvery ?? '…'} steps and at the end).</p> : <EvalCurves evals={evals} targets={targets} />}
          <h4>Checkpoints</h4>
          <Checkpoints checkpoints={state.checkpoints} running={running} />
          {!running && config && !state.result && state.checkpoints.length > 0 && (
            <p>
              <button type="button" onClick={() => void resumeFinetune(undefined)}>
                Resume from the latest checkpoint
              </button>
            </p>
          )}
        </div>
        {config && <ConfigView config={config} />}
      </div>
    </section>
  );
}
