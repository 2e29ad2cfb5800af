// The Phrases step (step 4 of the design; the Corpus step grew into it): the corpus the analysis
// reads now (the bundled UDHR or a file, with its reader), and a dataset built here: FLORES or a
// table imported, or a Neuronpedia phrases file; the project's languages it lacks translated with
// the user's opus-mt folders; its aligned phrases previewed with the import and translation
// reports; then used as the project's corpus.
import { useEffect } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { ProblemList } from '../../components/ProblemList';
import { Progress } from '../../components/Progress';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { CorpusReader } from './CorpusReader';
import { DatasetPreview } from './DatasetPreview';
import { DatasetReport } from './DatasetReport';
import { adoptDataset, cancelJob, choosePhrasesFile, phrases, proposeFolders, setChoices, startImport, type SourceKind } from './dataset';
import { NeuronpediaForm } from './NeuronpediaForm';
import { TranslateTargets } from './TranslateTargets';
import './phrases.css';

export function PhrasesStep() {
  useEffect(() => void proposeFolders(), []);
  return (
    <section className="phrases-step">
      <h2>Phrases</h2>
      <CorpusReader />
      <DatasetBuilder />
    </section>
  );
}

function DatasetBuilder() {
  const s = useStore(phrases, (x) => x);
  const c = useStore(wizard, (w) => w.phrases);
  const corpus = useStore(wizard, (w) => w.corpus);
  const running = s.job !== null;
  const setSource = (source: SourceKind) => setChoices({ source });
  const setImport = (patch: Partial<typeof c.importForm>) => setChoices((x) => ({ importForm: { ...x.importForm, ...patch } }));

  return (
    <div className="phrases-builder">
      <h3>Build a phrase dataset</h3>
      <fieldset className="phrases-source" disabled={running}>
        <legend>Where the phrases come from</legend>
        <label>
          <input type="radio" name="phrases-source" checked={c.source === 'import'} onChange={() => setSource('import')} /> FLORES-200 / FLORES+ or a table (.jsonl, .csv, .tsv,
          .parquet)
        </label>
        <label>
          <input type="radio" name="phrases-source" checked={c.source === 'neuronpedia'} onChange={() => setSource('neuronpedia')} /> A Neuronpedia export (phrases at ≥ 80 % of each
          feature's maximum)
        </label>
        <label>
          <input type="radio" name="phrases-source" checked={c.source === 'phrases'} onChange={() => setSource('phrases')} /> Neuronpedia phrases already extracted (a .jsonl from{' '}
          <code>linguascope phrases neuronpedia</code>)
        </label>

        {c.source === 'neuronpedia' && <NeuronpediaForm />}
        {c.source === 'import' && (
          <div className="phrases-form">
            <FolderField label="Files to import:" name="files to import" value={c.importForm.path} placeholder="/data/flores_plus or /data/corpus.csv" dialogTitle="FLORES folder or table" onChange={(v) => setImport({ path: v })} />
            <label>
              Languages to import{' '}
              <input aria-label="languages to import" value={c.importForm.languages} placeholder="blank: every language the files hold" onChange={(e) => setImport({ languages: e.target.value })} />
            </label>
            <label>
              FLORES split{' '}
              <select aria-label="FLORES split" value={c.importForm.split} onChange={(e) => setImport({ split: e.target.value as 'dev' | 'devtest' })}>
                <option value="dev">dev</option>
                <option value="devtest">devtest</option>
              </select>
            </label>
            <FolderField label="Dataset folder:" name="dataset folder" value={c.importForm.outDir} dialogTitle="Folder for the imported dataset" onChange={(v) => setImport({ outDir: v })} />
            <button type="button" className="primary" onClick={() => void startImport()}>
              Import
            </button>
            <p className="hint">
              Every import says, per language, what it kept and what it dropped. A language the files lack is an error when you name it here; leave the list blank to
              take every language they hold and translate the rest below.
            </p>
          </div>
        )}
        {c.source === 'phrases' && (
          <div className="phrases-form">
            <label>
              Phrases file{' '}
              <input aria-label="phrases file" value={c.phrasesPath} placeholder="/data/phrases.jsonl" onChange={(e) => setChoices({ phrasesPath: e.target.value })} />
            </label>
            <button type="button" className="primary" onClick={() => choosePhrasesFile()}>
              Use these phrases
            </button>
            <p className="hint">
              English phrases on which each SAE feature fires at ≥ 80 % of its maximum. They are read when translated: each becomes segment <code>f&lt;feature&gt;.&lt;n&gt;</code>,
              and <code>phrases.json</code> beside the corpus maps segments to their features.
            </p>
          </div>
        )}
      </fieldset>

      <ProblemList problems={s.problems} testId="phrases-problems" />
      <ErrorMessage error={s.error?.message ?? null} code={s.error?.code} />
      {s.cancelled && (
        <p className="hint" role="status">
          Cancelled; the dataset shown is the one before.
        </p>
      )}
      {running && <Progress label={`${s.job?.what === 'translate' ? 'translation' : s.job?.what === 'neuronpedia' ? 'extraction' : 'import'} progress`} progress={s.progress} onCancel={() => void cancelJob()} cancelling={s.cancelling} />}

      {s.dataset && (
        <div className="phrases-dataset" data-testid="phrases-dataset" data-origin={s.dataset.origin}>
          <p data-testid="phrases-dataset-summary">
            {s.dataset.corpus ? (
              <>
                Dataset <code>{s.dataset.corpus}</code> in {s.dataset.languages.join(', ')}.
              </>
            ) : (
              <>
                Phrases <code>{s.dataset.source}</code> (English): translate them to make a corpus.
              </>
            )}
          </p>
          <TranslateTargets running={running} />
          <DatasetReport dataset={s.dataset} />
          {s.dataset.corpus && <DatasetPreview corpus={s.dataset.corpus} dataset={s.dataset} />}
          {s.dataset.corpus && (
            <div className="phrases-use">
              <button type="button" className="primary" disabled={running || corpus === s.dataset.corpus} onClick={() => void adoptDataset()}>
                {corpus === s.dataset.corpus ? 'The project uses this dataset' : 'Use this dataset in the project'}
              </button>
              {s.used && (
                <span role="status" data-testid="phrases-used">
                  The project now reads <code>{s.used}</code>.
                </span>
              )}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
