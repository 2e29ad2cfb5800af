// The monitor's curves over the whole run: one small chart per figure (their scales differ by orders
// of magnitude: the retention term is ~1e-4 of the alignment term), each raw, with an optional
// debiased moving average over it; then per target language the held-out activation gain and the
// English retention at each evaluation. Every logged point is plotted.
import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { languageStyles } from '../../../../shared/palette';
import type { EvalRecord, StepRecord } from '../../../../shared/finetune';
import type { Tier } from '../../../../shared/dto';
import { ChartFrame } from '../../components/ChartFrame';
import { debiasedEma } from './ema';

const W = 340;
const H = 210;
const RAW = '#0072b2';
const SMOOTH = '#d55e00';

type Row = Record<string, number | null>;

/** Dots only while they can be told apart; the line joins every point either way. */
const dots = (n: number) => (n <= 80 ? { r: 2 } : false);

const fmt = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : 'n/a');

function SeriesChart({ title, basename, formula, rows, field, beta, testId }: { title: string; basename: string; formula: string; rows: Row[]; field: string; beta: number | null; testId: string }) {
  const data = beta === null ? rows : (() => {
    const smooth = debiasedEma(rows.map((r) => r[field]), beta);
    return rows.map((r, i) => ({ ...r, [`${field}_ema`]: smooth[i] }));
  })();
  const columns = beta === null ? ['step', field] : ['step', field, `${field}_ema`];
  return (
    <ChartFrame title={title} basename={basename} rows={data} columns={columns} formula={beta === null ? formula : `${formula}\n${field}_ema: ŝ_t = s_t / (1 − ${beta}^t), s_t = ${beta}·s_{t−1} + ${(1 - beta).toFixed(2)}·x_t`}>
      <div data-testid={testId} data-points={rows.length} data-first={rows[0]?.step ?? ''} data-last={rows.at(-1)?.step ?? ''}>
        <LineChart width={W} height={H} data={data} margin={{ top: 8, right: 12, bottom: 20, left: 4 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'step', position: 'insideBottom', offset: -10 }} />
          <YAxis width={64} tickFormatter={fmt} domain={['auto', 'auto']} />
          <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `step ${String(l)}`} />
          <Line className="raw" dataKey={field} name={field} stroke={RAW} strokeOpacity={beta === null ? 1 : 0.45} strokeWidth={1.5} dot={dots(rows.length)} isAnimationActive={false} connectNulls />
          {beta !== null && <Line className="smooth" dataKey={`${field}_ema`} name={`${field} (moving average)`} stroke={SMOOTH} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />}
        </LineChart>
        {beta !== null && (
          <ul className="legend">
            <li>
              <svg width="24" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="24" y2="5" stroke={RAW} strokeOpacity={0.45} strokeWidth="2" />
              </svg>{' '}
              raw
            </li>
            <li>
              <svg width="24" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="24" y2="5" stroke={SMOOTH} strokeWidth="2" />
              </svg>{' '}
              debiased EMA, β = {beta}
            </li>
          </ul>
        )}
      </div>
    </ChartFrame>
  );
}

export function TrainingCurves({ steps, evals, beta, alpha }: { steps: StepRecord[]; evals: EvalRecord[]; beta: number | null; alpha: number }) {
  const rows: Row[] = steps.map((s) => ({ step: s.step, loss: s.loss, term1: s.term1, term2: s.term2, lr: s.lr, grad_norm: s.grad_norm }));
  const held: Row[] = evals.map((e) => ({ step: e.step, heldout_loss: e.heldout_loss }));
  return (
    <div className="curves">
      <SeriesChart title="Training loss" basename="finetune_loss" rows={rows} field="loss" beta={beta} testId="curve-loss" formula={`loss = |u − v| term + ${alpha} · (u − u_orig)² term, on each step's batch`} />
      <SeriesChart title="Alignment term |u − v|" basename="finetune_term1" rows={rows} field="term1" beta={beta} testId="curve-term1" formula="term1 = Σ_layers (1/P) Σ_pairs (1/n) Σ_f w·|u − v|" />
      <SeriesChart title="Retention term (u − u_orig)²" basename="finetune_term2" rows={rows} field="term2" beta={beta} testId="curve-term2" formula="term2 = Σ_layers (1/P) Σ_pairs (1/n) Σ_f w·(u − u_orig)²" />
      <SeriesChart title="Learning rate" basename="finetune_lr" rows={rows} field="lr" beta={null} testId="curve-lr" formula="AdamW learning rate: linear warmup, then cosine decay" />
      <SeriesChart title="Gradient norm" basename="finetune_grad_norm" rows={rows} field="grad_norm" beta={beta} testId="curve-grad-norm" formula="global L2 norm of the LoRA gradients before clipping" />
      <SeriesChart title="Held-out alignment loss" basename="finetune_heldout_loss" rows={held} field="heldout_loss" beta={beta} testId="curve-heldout" formula="the loss on the held-out pairs (never trained on), at each evaluation" />
    </div>
  );
}

/** Held-out activation gain per target language, and English retention (% and cosine), per evaluation. */
export function EvalCurves({ evals, targets }: { evals: EvalRecord[]; targets: { code: string; tier: Tier }[] }) {
  const styles = languageStyles(targets);
  const gainRows: Row[] = evals.map((e) => ({ step: e.step, ...Object.fromEntries(targets.map((t) => [t.code, e.gain_percent[t.code] ?? null])) }));
  const retention: Row[] = evals.map((e) => ({ step: e.step, retention_percent: e.retention_percent, retention_cosine: e.retention_cosine }));
  return (
    <div className="curves">
      <ChartFrame
        title="Held-out activation gain per target language (%)"
        basename="finetune_gain"
        rows={gainRows}
        columns={['step', ...targets.map((t) => t.code)]}
        formula="gain_L = 100 · (after − before) / before of the held-out mean SAE activation of language L over the loss layers"
      >
        <div data-testid="curve-gain" data-points={evals.length}>
          <LineChart width={W} height={H} data={gainRows} margin={{ top: 8, right: 12, bottom: 20, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'step', position: 'insideBottom', offset: -10 }} />
            <YAxis width={64} tickFormatter={fmt} />
            <ReferenceLine y={0} stroke="#6b7280" />
            <Tooltip formatter={(v) => `${fmt(v)} %`} labelFormatter={(l) => `step ${String(l)}`} />
            {targets.map((t) => (
              <Line key={t.code} dataKey={t.code} name={t.code} stroke={styles.get(t.code)?.color} strokeDasharray={styles.get(t.code)?.dash || undefined} strokeWidth={1.75} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
            ))}
          </LineChart>
          <ul className="legend">
            {targets.map((t) => (
              <li key={t.code}>
                <svg width="24" height="10" aria-hidden="true">
                  <line x1="0" y1="5" x2="24" y2="5" stroke={styles.get(t.code)?.color} strokeWidth="2" strokeDasharray={styles.get(t.code)?.dash || undefined} />
                </svg>{' '}
                <span style={{ color: styles.get(t.code)?.textColor }}>{t.code}</span>
              </li>
            ))}
          </ul>
        </div>
      </ChartFrame>
      <ChartFrame
        title="English retention on the held-out segments"
        basename="finetune_retention"
        rows={retention}
        columns={['step', 'retention_percent', 'retention_cosine']}
        formula={'retention = 100 · after_en / before_en (left axis); cosine of the English activation vectors after vs before (right axis)'}
      >
        <div data-testid="curve-retention" data-points={evals.length}>
          <LineChart width={W} height={H} data={retention} margin={{ top: 8, right: 4, bottom: 20, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'step', position: 'insideBottom', offset: -10 }} />
            <YAxis yAxisId="pct" width={56} tickFormatter={fmt} domain={['auto', 'auto']} />
            <YAxis yAxisId="cos" orientation="right" width={56} tickFormatter={fmt} domain={['auto', 'auto']} />
            <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `step ${String(l)}`} />
            <Line yAxisId="pct" dataKey="retention_percent" name="retention %" stroke="#000000" strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
            <Line yAxisId="cos" dataKey="retention_cosine" name="cosine" stroke={RAW} strokeDasharray="7 4" strokeWidth={1.5} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
          </LineChart>
          <ul className="legend">
            <li>
              <svg width="24" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="24" y2="5" stroke="#000000" strokeWidth="2" />
              </svg>{' '}
              retention % (left)
            </li>
            <li>
              <svg width="24" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="24" y2="5" stroke={RAW} strokeWidth="2" strokeDasharray="7 4" />
              </svg>{' '}
              cosine (right)
            </li>
          </ul>
        </div>
      </ChartFrame>
    </div>
  );
}
