// The project's languages the dataset lacks, each with the opus-mt folder that translates into it
// (and the target-language token a multi-target model needs, e.g. >>cmn_Hans<< for Chinese), and
// the translation's output folder; Translate runs `dataset.translate` as a job.
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { missingLanguages, type TargetChoice } from './data';
import { phrases, setChoices, startTranslate, tryTarget } from './dataset';

export function TranslateTargets({ running }: { running: boolean }) {
  const selected = useStore(wizard, (w) => w.selected);
  const dataset = useStore(phrases, (x) => x.dataset);
  const sample = useStore(phrases, (x) => x.sample);
  const tries = useStore(phrases, (x) => x.tries);
  const s = useStore(wizard, (w) => w.phrases);
  const missing = missingLanguages(selected, dataset);
  const setTarget = (code: string, patch: Partial<TargetChoice>) =>
    setChoices((x) => ({ targets: { ...x.targets, [code]: { ...(x.targets[code] ?? { model: '', targetToken: '' }), ...patch } } }));

  if (missing.length === 0) {
    return (
      <p className="hint" data-testid="phrases-complete">
        The dataset has every language of the project.
      </p>
    );
  }
  return (
    <fieldset className="phrases-translate" disabled={running} data-testid="phrases-translate">
      <legend>Translate the languages it lacks ({missing.join(', ')})</legend>
      <table className="phrases-targets">
        <thead>
          <tr>
            <th scope="col">Language</th>
            <th scope="col">opus-mt folder</th>
            <th scope="col">Target token</th>
            <th scope="col">Sample translated</th>
          </tr>
        </thead>
        <tbody>
          {missing.map((code) => (
            <tr key={code} data-code={code}>
              <th scope="row">
                <code>{code}</code>
              </th>
              <td>
                <FolderField label="" name={`${code} opus-mt folder`} value={s.targets[code]?.model ?? ''} placeholder="/models/opus-mt-en-…" dialogTitle={`opus-mt model translating into ${code}`} onChange={(v) => setTarget(code, { model: v })} />
              </td>
              <td>
                <input aria-label={`${code} target token`} value={s.targets[code]?.targetToken ?? ''} placeholder="e.g. >>cmn_Hans<< (multi-target models)" onChange={(e) => setTarget(code, { targetToken: e.target.value })} />
              </td>
              <td className="phrases-try">
                <button type="button" disabled={tries[code]?.busy} onClick={() => void tryTarget(code)}>
                  {tries[code]?.busy ? 'Trying…' : `Try ${code}`}
                </button>
                {tries[code]?.text !== undefined && (
                  <span role="status" lang={code} data-testid={`try-${code}`}>
                    {tries[code].text || '(an empty translation)'}
                  </span>
                )}
                <ErrorMessage error={tries[code]?.error?.message ?? null} code={tries[code]?.error?.code} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <label>
        Sample text <input aria-label="sample text" value={sample} onChange={(e) => phrases.set({ sample: e.target.value })} />
      </label>
      <FolderField label="Translated dataset folder:" name="translated dataset folder" value={s.translateDir} dialogTitle="Folder for the translated dataset" onChange={(v) => setChoices({ translateDir: v })} />
      <label>
        Beams{' '}
        <input
          aria-label="beams"
          type="number"
          min={1}
          max={32}
          value={s.beams ?? ''}
          placeholder="model's own"
          // A number the field cannot hold (empty, not finite) is no choice: the model's own.
          onChange={(e) => setChoices({ beams: e.target.value === '' || !Number.isFinite(Number(e.target.value)) ? null : Number(e.target.value) })}
        />
      </label>
      <button type="button" className="primary" onClick={() => void startTranslate(missing)}>
        Translate
      </button>
      <p className="hint">Translations are cached per model, text and settings: translating again reads them back.</p>
    </fieldset>
  );
}
