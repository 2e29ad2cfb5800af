// What the import and the translation did: per language the rows read, kept and dropped (with
// why), the languages the files held that were not imported (with why), and per translated
// language its model, settings, cached and empty translations.
import type { Dataset } from './data';
import { featureRows, importRows, translateRows } from './data';

export function DatasetReport({ dataset }: { dataset: Dataset }) {
  const imported = dataset.imported;
  const translated = dataset.translated;
  const extracted = dataset.extracted;
  return (
    <div className="phrases-report">
      {extracted && (
        <section aria-labelledby="extract-report-title" data-testid="extract-report">
          <h4 id="extract-report-title">
            Neuronpedia: {extracted.phrases} phrases from {extracted.features.length} features of {extracted.modelId}/{extracted.sourceId}
          </h4>
          <table className="phrases-table">
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Explanation</th>
                <th scope="col">Maximum ({extracted.settings.maximum})</th>
                <th scope="col">Records</th>
                <th scope="col">At ≥ {Math.round(extracted.settings.threshold * 100)} %</th>
                <th scope="col">Phrases</th>
                <th scope="col">Dropped</th>
              </tr>
            </thead>
            <tbody>
              {featureRows(extracted).map((r) => (
                <tr key={r.feature} data-feature={r.feature}>
                  <th scope="row">{r.feature}</th>
                  <td>{r.explanation}</td>
                  <td>{r.maximum}</td>
                  <td>{r.records}</td>
                  <td>{r.passing}</td>
                  <td>{r.phrases}</td>
                  <td>{r.dropped}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {extracted.warnings.length > 0 && (
            <ul className="phrases-warnings" aria-label="warnings" data-testid="extract-warnings">
              {extracted.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          <p className="hint">
            Phrases file: <code>{extracted.out}</code>
          </p>
        </section>
      )}
      {imported && (
        <section aria-labelledby="import-report-title" data-testid="import-report">
          <h4 id="import-report-title">
            Import: {imported.format}
            {imported.split ? ` (${imported.split})` : ''}, {imported.segments.kept} of {imported.segments.read} segments kept
          </h4>
          <table className="phrases-table">
            <thead>
              <tr>
                <th scope="col">Language</th>
                <th scope="col">In the files</th>
                <th scope="col">Rows read</th>
                <th scope="col">Kept</th>
                <th scope="col">Dropped</th>
              </tr>
            </thead>
            <tbody>
              {importRows(imported).map((r) => (
                <tr key={r.code} data-code={r.code}>
                  <th scope="row">
                    <code>{r.code}</code>
                  </th>
                  <td>{r.label}</td>
                  <td>{r.read}</td>
                  <td>{r.kept}</td>
                  <td>{r.dropped}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {imported.skipped.length > 0 && (
            <ul className="phrases-skipped" aria-label="not imported">
              {imported.skipped.map((k) => (
                <li key={k.label} data-label={k.label}>
                  Not imported: <code>{k.label}</code> ({k.rows} rows): {k.why}
                </li>
              ))}
            </ul>
          )}
          <p className="hint">
            Report: <code>{imported.report}</code>
          </p>
        </section>
      )}
      {translated && (
        <section aria-labelledby="translate-report-title" data-testid="translate-report">
          <h4 id="translate-report-title">
            Translation from {translated.sourceLanguage}: {translated.segments.kept} of {translated.segments.read} segments kept
          </h4>
          <table className="phrases-table">
            <thead>
              <tr>
                <th scope="col">Language</th>
                <th scope="col">Model</th>
                <th scope="col">Settings</th>
                <th scope="col">Texts</th>
                <th scope="col">From the cache</th>
                <th scope="col">Empty (left out)</th>
                <th scope="col">Seconds</th>
                <th scope="col">Against the corpus's own texts</th>
              </tr>
            </thead>
            <tbody>
              {translateRows(translated).map((r) => (
                <tr key={r.code} data-code={r.code}>
                  <th scope="row">
                    <code>{r.code}</code>
                  </th>
                  <td>
                    <code>{r.model}</code>
                  </td>
                  <td>{r.settings}</td>
                  <td>{r.count}</td>
                  <td>{r.cached}</td>
                  <td>{r.empty}</td>
                  <td>{r.seconds}</td>
                  <td>{r.quality}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {translated.features && (
            <p className="hint">
              Segments to features: <code>{translated.features}</code>
            </p>
          )}
          <p className="hint">
            Report: <code>{translated.report}</code>
          </p>
        </section>
      )}
    </div>
  );
}
