// The Phrases step's corpus reader (the Corpus step before it grew into the Phrases step): which
// parallel corpus the analysis reads (the bundled UDHR, the user's own .tsv file or a dataset the
// step built, read and checked by the backend exactly as a run reads it) and a reader for it: one
// aligned segment at a time with every language stacked, or two languages side by side; paging,
// search over ids and texts, and the segments the analysis leaves out with why.
import { useEffect, useState } from 'react';
import type { CorpusPage, Language } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import './corpus.css';

interface Failure {
  message: string;
  code?: string;
}

const failure = (e: unknown): Failure => ({ message: errorMessage(e), code: e instanceof ApiError ? e.code : undefined });

export function CorpusReader() {
  const selected = useStore(wizard, (s) => s.selected);
  const corpus = useStore(wizard, (s) => s.corpus);
  const [names, setNames] = useState<Record<string, string>>({});
  const [page, setPage] = useState<CorpusPage | null>(null);
  const [error, setError] = useState<Failure | null>(null);
  const [offset, setOffset] = useState(0);
  const [query, setQuery] = useState('');
  const [draftQuery, setDraftQuery] = useState('');
  const [view, setView] = useState<'stacked' | 'pair'>('stacked');
  const [pair, setPair] = useState<[string, string]>(['en', '']);

  useEffect(() => {
    api.languages.list({}).then(
      (list: Language[]) => setNames(Object.fromEntries(list.map((l) => [l.code, l.name]))),
      () => setNames({}),
    );
  }, []);

  useEffect(() => {
    if (selected.length === 0) return;
    let live = true;
    setError(null);
    api.corpus.browse({ languages: selected, corpus, offset, limit: 1, query }).then(
      (p) => {
        if (!live) return;
        setPage(p);
        // Keep a chosen pair when both are still in the corpus; else English and the next language.
        setPair(([a, b]) => (p.languages.includes(a) && p.languages.includes(b) && a !== b ? [a, b] : [p.languages[0], p.languages[1] ?? p.languages[0]]));
      },
      (e: unknown) => live && setError(failure(e)),
    );
    return () => {
      live = false;
    };
  }, [selected, corpus, offset, query]);

  if (selected.length === 0) return <div className="corpus-step"><h3>The corpus the analysis reads</h3><p>Choose at least one language first.</p></div>;
  const segment = page?.segments[0];
  const name = (code: string) => names[code] ?? code;
  const last = page ? Math.max(0, page.matched - 1) : 0;

  return (
    <div className="corpus-step">
      <h3>The corpus the analysis reads</h3>
      <CorpusSource corpus={corpus} languages={selected} onChosen={() => setOffset(0)} />
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {!page && !error && <p aria-busy="true">Aligning the corpus…</p>}
      {page && (
        <>
          <p data-testid="aligned-count">
            {page.source === 'udhr' ? <>Universal Declaration of Human Rights ({page.label})</> : <>Corpus file <code>{page.label}</code></>}:{' '}
            <strong>{page.total}</strong> aligned segments in {page.languages.length} languages
            {page.source === 'udhr' ? ' (preamble and 30 articles, aligned by article and paragraph)' : ' (segments with a text in every chosen language)'}.
          </p>
          {page.merged.length > 0 && <p className="hint">Kept whole because their paragraphs differ between languages: {page.merged.join(', ')}.</p>}
          <LeftOut page={page} />

          <form
            className="corpus-search"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              setQuery(draftQuery);
              setOffset(0);
            }}
          >
            <label>
              Search <input type="search" aria-label="search the corpus" value={draftQuery} onChange={(e) => setDraftQuery(e.target.value)} placeholder="a word in any language, or a segment id" />
            </label>
            <button type="submit">Search</button>
            {query && (
              <button
                type="button"
                onClick={() => {
                  setDraftQuery('');
                  setQuery('');
                  setOffset(0);
                }}
              >
                Show all
              </button>
            )}
          </form>

          <div className="corpus-pager" role="group" aria-label="segment pages">
            <button type="button" disabled={!page.matched || page.offset === 0} onClick={() => setOffset(0)}>First</button>
            <button type="button" disabled={!page.matched || page.offset === 0} onClick={() => setOffset(page.offset - 1)}>Previous</button>
            <span data-testid="corpus-position" aria-live="polite">
              {page.matched ? `Segment ${page.offset + 1} of ${page.matched}` : 'No segment'}
              {query ? ` matching "${query}"` : ''}
            </span>
            <button type="button" disabled={!page.matched || page.offset >= last} onClick={() => setOffset(page.offset + 1)}>Next</button>
            <button type="button" disabled={!page.matched || page.offset >= last} onClick={() => setOffset(last)}>Last</button>
            <label>
              View{' '}
              <select aria-label="corpus view" value={view} onChange={(e) => setView(e.target.value as 'stacked' | 'pair')}>
                <option value="stacked">every language, stacked</option>
                <option value="pair">two languages side by side</option>
              </select>
            </label>
          </div>

          {segment && view === 'stacked' && (
            <article className="corpus-segment" data-testid="corpus-segment" data-key={segment.key}>
              <h4>
                Segment <code>{segment.key}</code>
              </h4>
              <dl className="segment-stack">
                {page.languages.map((c) => (
                  <div key={c} data-code={c}>
                    <dt>
                      {name(c)} <code>{c}</code>
                    </dt>
                    <dd lang={c} className="segment-text">
                      {segment.texts[c]}
                    </dd>
                  </div>
                ))}
              </dl>
            </article>
          )}
          {segment && view === 'pair' && (
            <article className="corpus-segment" data-testid="corpus-segment" data-key={segment.key}>
              <h4>
                Segment <code>{segment.key}</code>
              </h4>
              <table className="segment-pair">
                <thead>
                  <tr>
                    {pair.map((code, i) => (
                      <th key={i} scope="col">
                        <select aria-label={i === 0 ? 'first language' : 'second language'} value={code} onChange={(e) => setPair(i === 0 ? [e.target.value, pair[1]] : [pair[0], e.target.value])}>
                          {page.languages.map((c) => (
                            <option key={c} value={c}>
                              {name(c)} ({c})
                            </option>
                          ))}
                        </select>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    {pair.map((code, i) => (
                      <td key={i} lang={code} data-code={code} className="segment-text">
                        {segment.texts[code]}
                      </td>
                    ))}
                  </tr>
                </tbody>
              </table>
            </article>
          )}
        </>
      )}
    </div>
  );
}

/** The corpus the analysis reads: the bundled UDHR or a file; a file is read by the backend before
 * it is used, and one that fails keeps the previous choice with the reason shown. */
function CorpusSource({ corpus, languages, onChosen }: { corpus: string; languages: string[]; onChosen(): void }) {
  const [path, setPath] = useState(corpus === 'udhr' ? '' : corpus);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<Failure | null>(null);

  const useFile = async () => {
    setError(null);
    if (!path.trim()) {
      setError({ message: 'Type the path of a corpus file (a .tsv with the header segment<TAB>language<TAB>text).' });
      return;
    }
    setChecking(true);
    try {
      const page = await api.corpus.browse({ languages, corpus: path.trim(), limit: 1 });
      wizard.set({ corpus: page.source });
      setPath(page.source);
      onChosen();
    } catch (e) {
      setError(failure(e));
    } finally {
      setChecking(false);
    }
  };

  return (
    <fieldset className="corpus-source">
      <legend>Corpus the analysis reads</legend>
      <p data-testid="corpus-source">
        {corpus === 'udhr' ? (
          <>The bundled Universal Declaration of Human Rights.</>
        ) : (
          <>
            Your corpus file <code>{corpus}</code>.{' '}
            <button
              type="button"
              onClick={() => {
                wizard.set({ corpus: 'udhr' });
                setError(null);
                onChosen();
              }}
            >
              Use the bundled UDHR instead
            </button>
          </>
        )}
      </p>
      <div className="corpus-file">
        <label>
          Corpus file <input aria-label="corpus file path" value={path} placeholder="/path/to/corpus.tsv" onChange={(e) => setPath(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && void useFile()} />
        </label>
        <button type="button" disabled={checking} onClick={() => void useFile()}>
          {checking ? 'Reading…' : 'Use this file'}
        </button>
      </div>
      <p className="hint">
        A tab-separated file with the header <code>{'segment<TAB>language<TAB>text'}</code> and one phrase per row; segments without a text in every chosen language are
        left out (listed below).
      </p>
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
    </fieldset>
  );
}

function LeftOut({ page }: { page: CorpusPage }) {
  if (page.leftOutCount === 0) {
    return (
      <p className="hint" data-testid="left-out-none">
        No segment is left out: every one has a text in every chosen language. Segments longer than the model's context in some language are skipped when
        the analysis runs (Results lists them).
      </p>
    );
  }
  return (
    <details className="left-out" data-testid="left-out">
      <summary>
        {page.leftOutCount} {page.leftOutCount === 1 ? 'segment is' : 'segments are'} left out of the analysis
      </summary>
      <ul>
        {page.leftOut.map((s) => (
          <li key={s.key} data-key={s.key}>
            <code>{s.key}</code>: {s.reason}
          </li>
        ))}
      </ul>
      {page.leftOutCount > page.leftOut.length && <p className="hint">…and {page.leftOutCount - page.leftOut.length} more.</p>}
      <p className="hint">Segments longer than the model's context in some language are also skipped when the analysis runs (Results lists them).</p>
    </details>
  );
}
