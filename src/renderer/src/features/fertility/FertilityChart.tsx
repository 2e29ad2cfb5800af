import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { FertilityRow, Tier } from '../../../../shared/dto';
import { TIER_COLORS, TIER_LABELS } from '../../../../shared/tiers';

export type FertilityMetric = 'ratio_to_en' | 'tokens_per_word' | 'tokens_per_char' | 'tokens_per_segment';

export const METRIC_LABELS: Record<FertilityMetric, string> = {
  ratio_to_en: 'tokens relative to English',
  tokens_per_word: 'tokens per word',
  tokens_per_char: 'tokens per character',
  tokens_per_segment: 'tokens per aligned segment',
};

export function FertilityChart({ rows, metric }: { rows: FertilityRow[]; metric: FertilityMetric }) {
  const tiers = [...new Set(rows.map((r) => r.tier))] as Tier[];
  return (
    <>
    <BarChart width={760} height={380} data={rows} margin={{ top: 16, right: 16, bottom: 8, left: 8 }}>
      <CartesianGrid strokeDasharray="3 3" vertical={false} />
      <XAxis dataKey="language" />
      <YAxis width={56} />
      <Tooltip formatter={(value) => (typeof value === 'number' ? value.toFixed(3) : String(value))} />
      {metric === 'ratio_to_en' && <ReferenceLine y={1} stroke="#dc2626" strokeDasharray="6 4" label="parity" />}
      <Bar dataKey={metric} name={METRIC_LABELS[metric]} isAnimationActive={false}>
        {rows.map((r) => (
          <Cell key={r.language} fill={TIER_COLORS[r.tier]} />
        ))}
      </Bar>
    </BarChart>
    <ul className="legend">
      {tiers.map((t) => (
        <li key={t}>
          <svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill={TIER_COLORS[t]} /></svg> {TIER_LABELS[t]}
        </li>
      ))}
    </ul>
    </>
  );
}
