// The dataset's aligned phrases as the analysis will read them (corpus.browse on its corpus.tsv,
// the same reader a run uses): a table of segment, then one column per language, paged.
import { useEffect, useState } from 'react';
import type { CorpusPage } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { previewLanguages, type Dataset } from './data';

const PAGE = 10;

export function DatasetPreview({ corpus, dataset }: { corpus: string; dataset: Dataset }) {
  const selected = useStore(wizard, (w) => w.selected);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<CorpusPage | null>(null);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);
  const languages = previewLanguages(selected, dataset);
  const key = languages.join(',');

  useEffect(() => setOffset(0), [corpus]);
  useEffect(() => {
    let live = true;
    setError(null);
    api.corpus.browse({ languages: key.split(','), corpus, offset, limit: PAGE }).then(
      (p) => live && setPage(p),
      (e: unknown) => live && setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) }),
    );
    return () => {
      live = false;
    };
  }, [corpus, key, offset]);

  const last = page ? Math.max(0, Math.floor((page.total - 1) / PAGE) * PAGE) : 0;
  return (
    <section className="phrases-preview" aria-labelledby="phrases-preview-title" data-testid="phrases-preview">
      <h4 id="phrases-preview-title">Aligned phrases</h4>
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {page && (
        <>
          <div className="corpus-pager" role="group" aria-label="phrase pages">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(0)}>First</button>
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
            <span data-testid="phrases-position" aria-live="polite">
              {page.total ? `Segments ${page.offset + 1}–${page.offset + page.segments.length} of ${page.total}` : 'No segment'}
            </span>
            <button type="button" disabled={offset >= last} onClick={() => setOffset(offset + PAGE)}>Next</button>
            <button type="button" disabled={offset >= last} onClick={() => setOffset(last)}>Last</button>
          </div>
          <div className="phrases-scroll" tabIndex={0} role="region" aria-label="aligned phrases table">
            <table className="phrases-table phrases-aligned">
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  {page.languages.map((c) => (
                    <th key={c} scope="col">
                      <code>{c}</code>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {page.segments.map((seg) => (
                  <tr key={seg.key} data-key={seg.key}>
                    <th scope="row">
                      <code>{seg.key}</code>
                    </th>
                    {page.languages.map((c) => (
                      <td key={c} lang={c} data-code={c}>
                        {seg.texts[c]}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
