// Per-feature figures (issue 15): when the project's corpus file has the phrases.json that
// `dataset translate` writes beside it, the run can measure each listed feature on its own phrases.
// Whether the file is there is the backend's answer (corpus.browse's phrasesFile); the renderer
// reads no files. A corpus the backend cannot read offers nothing here: the run itself then shows
// that corpus's typed error.
import { useEffect, useState } from 'react';
import { api } from '../../api';
import { createStore, useStore } from '../../state/store';

/** phrases.json files the user chose not to use (the option is on by default), kept while the app
 * is open so leaving the step and coming back keeps the choice. */
const declined = createStore<{ files: string[] }>({ files: [] });

/** The phrases.json beside `corpus`, as the backend sees it; null for the UDHR, none, or not yet known. */
export function usePhrasesBeside(corpus: string, languages: readonly string[]): string | null {
  const [found, setFound] = useState<{ key: string; file: string | null } | null>(null);
  const key = `${corpus}|${languages.join(',')}`;
  useEffect(() => {
    if (corpus === 'udhr') return;
    let live = true;
    api.corpus.browse({ languages: [...languages], corpus, limit: 1 }).then(
      (page) => live && setFound({ key, file: page.phrasesFile }),
      () => live && setFound({ key, file: null }),
    );
    return () => {
      live = false;
    };
    // `key` spells corpus and languages: a new languages array with the same codes asks nothing.
  }, [key]);
  return corpus !== 'udhr' && found?.key === key ? found.file : null;
}

/** The phrases.json the run sends: the file beside the corpus unless the user unticked it. */
export function usePhrasesChoice(file: string | null): { file: string | null; use: boolean; setUse: (use: boolean) => void } {
  const files = useStore(declined, (s) => s.files);
  const use = file !== null && !files.includes(file);
  const setUse = (on: boolean) => {
    if (file === null) return;
    declined.set((s) => ({ files: on ? s.files.filter((f) => f !== file) : [...s.files.filter((f) => f !== file), file] }));
  };
  return { file, use, setUse };
}

export function PhrasesOption({ file, use, setUse }: { file: string; use: boolean; setUse: (use: boolean) => void }) {
  return (
    <div className="phrases-option" data-testid="run-phrases">
      <label>
        <input type="checkbox" checked={use} onChange={(e) => setUse(e.target.checked)} /> Measure each feature on its own phrases (phrases.json)
      </label>
      <p className="hint">
        <code>{file}</code> lies beside the corpus: it lists the segments selected for each SAE feature and the Neuronpedia source they came from. With this
        on, the Results step adds each feature's mean activation, deficit against English and gap on its own segments, at the SAE of the layer its source
        names.
      </p>
    </div>
  );
}
