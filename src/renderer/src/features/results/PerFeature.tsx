// "Each feature on its own phrases": the summary's per_feature figures (issue 15), one row per SAE
// feature phrases.json lists, measured only on the segments selected for it. Cells are the
// backend's numbers, formatted; the CSV holds them unrounded.
import type { DisparitySummary } from '../../../../shared/dto';
import { exportCsv } from '../../components/export';
import { num, pct } from './data';
import { PER_FEATURE_CSV_COLUMNS, perFeatureCsvRows, perFeatureSortValue, perFeatureTableRows, type PerFeatureRow } from './per-feature';
import { SortHeader, useSorted } from './SortHeader';

export function PerFeature({ summary }: { summary: DisparitySummary }) {
  const rows = perFeatureTableRows(summary);
  const table = useSorted<PerFeatureRow, string>(rows, perFeatureSortValue);
  const phrases = summary.per_feature_phrases;
  if (!summary.per_feature || !phrases) return null;
  const codes = summary.languages.map((l) => l.code);
  const formulas = Object.entries(summary.formulas).filter(([k]) => k.startsWith('per_feature'));
  return (
    <div className="per-feature" data-testid="per-feature">
      <h3>Each feature on its own phrases</h3>
      <p className="hint" data-testid="per-feature-source">
        {rows.length} {rows.length === 1 ? 'feature' : 'features'} of <code>{phrases.file}</code> ({phrases.phrases} phrases), each measured only on the
        segments selected for it, at the SAE of the layer its Neuronpedia source names. Deficit and gap are in percent; n/a where undefined.
      </p>
      {phrases.warnings.length > 0 && (
        <ul className="fidelity-warnings" data-testid="per-feature-warnings">
          {phrases.warnings.map((w) => (
            <li key={w} className="warning">
              {w}
            </li>
          ))}
        </ul>
      )}
      <div className="toolbar">
        <button type="button" onClick={() => exportCsv(perFeatureCsvRows(summary), PER_FEATURE_CSV_COLUMNS, 'per_feature')}>
          CSV
        </button>
      </div>
      <table className="per-feature" data-testid="per-feature-table" aria-label="each feature on its own phrases">
        <thead>
          <tr>
            <SortHeader column="layer" numeric={false} sort={table.sort} onSort={table.setSort}>Layer</SortHeader>
            <SortHeader column="feature" numeric={false} sort={table.sort} onSort={table.setSort}>Feature</SortHeader>
            <SortHeader column="segments" sort={table.sort} onSort={table.setSort}>Segments</SortHeader>
            {codes.map((c) => (
              <SortHeader key={`mean_${c}`} column={`mean_${c}`} sort={table.sort} onSort={table.setSort}>
                mean {c}
              </SortHeader>
            ))}
            {codes.map((c) => (
              <SortHeader key={`deficit_${c}`} column={`deficit_${c}`} sort={table.sort} onSort={table.setSort}>
                deficit {c}
              </SortHeader>
            ))}
            <SortHeader column="gap" sort={table.sort} onSort={table.setSort}>Gap</SortHeader>
          </tr>
        </thead>
        <tbody>
          {table.sorted.map((f) => (
            <tr key={f.key} data-layer={f.layer} data-feature={f.feature}>
              <td>{f.layer}</td>
              <td title={f.source}>{f.feature}</td>
              <td className="num" title={f.segments_dropped ? `${f.segments_dropped} listed segments left out of the analysis` : undefined}>
                {f.segments}
              </td>
              {f.languages.map((l) => (
                <td key={`mean_${l.code}`} className="num" data-column={`mean_${l.code}`} data-value={String(l.mean_activation)}>
                  {num(l.mean_activation)}
                </td>
              ))}
              {f.languages.map((l) => (
                <td key={`deficit_${l.code}`} className="num" data-column={`deficit_${l.code}`} data-value={String(l.deficit_vs_en)}>
                  {pct(l.deficit_vs_en)}
                </td>
              ))}
              <td className="num" data-column="gap" data-value={String(f.gap_percent)}>
                {pct(f.gap_percent)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {formulas.length > 0 && <p className="formula">{formulas.map(([k, v]) => `${k}: ${v}`).join('\n')}</p>}
    </div>
  );
}
