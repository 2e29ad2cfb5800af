import { useEffect, useState } from 'react';
import type { CorpusLanguage, Language, Tier } from '../../../../shared/dto';
import { TIER_LABELS } from '../../../../shared/tiers';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';

// English is the one reference (every ratio and gap is measured against it, and the backend
// refuses a second one): the other languages choose between the two resource tiers.
const TIERS: Tier[] = ['high', 'medium-low'];

export function LanguagesStep() {
  const selected = useStore(wizard, (s) => s.selected);
  const [languages, setLanguages] = useState<Language[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [newCode, setNewCode] = useState('');
  const [addError, setAddError] = useState<string | null>(null);
  const [corpus, setCorpus] = useState<CorpusLanguage[]>([]);

  const refreshCorpus = () => api.corpus.languages({}).then(setCorpus, () => setCorpus([]));
  useEffect(() => {
    api.languages.list({}).then(setLanguages, (e: unknown) => setError(errorMessage(e)));
    void refreshCorpus();
  }, []);

  const toggle = (code: string) =>
    wizard.set((s) => ({
      selected: s.selected.includes(code) ? s.selected.filter((c) => c !== code) : [...s.selected, code],
    }));

  const changeTier = async (code: string, tier: Tier) => {
    setError(null);
    try {
      const updated = await api.languages.setTier({ code, tier });
      setLanguages((list) => list!.map((l) => (l.code === code ? updated : l)));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const add = async () => {
    setAddError(null);
    try {
      const added = await api.languages.add({ code: newCode.trim() });
      setLanguages((list) => [...(list ?? []), added]);
      wizard.set((s) => ({ selected: s.selected.includes(added.code) ? s.selected : [...s.selected, added.code] }));
      setNewCode('');
      void refreshCorpus();
    } catch (e) {
      setAddError(errorMessage(e));
    }
  };

  const remove = async (code: string) => {
    setError(null);
    try {
      await api.languages.remove({ code });
      setLanguages((list) => list!.filter((l) => l.code !== code));
      wizard.set((s) => ({ selected: s.selected.filter((c) => c !== code) }));
      void refreshCorpus();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  if (!languages) return <section aria-busy="true">{error ? <ErrorMessage error={error} /> : 'Loading languages…'}</section>;
  return (
    <section>
      <h2>Languages</h2>
      <p className="hint">
        English is the one reference: every ratio and gap is measured against it. The paper's high-resource languages are zh ru es it;
        medium/low-resource id ca mr ml hi. Tiers are yours to edit; every gap and chart uses them. The paper's languages can be
        deselected; languages you add can be removed.
      </p>
      <table className="languages">
        <thead>
          <tr>
            <th>Use</th>
            <th>Code</th>
            <th>Language</th>
            <th>Script</th>
            <th>Tier</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {languages.map((l) => (
            <tr key={l.code} data-code={l.code}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`use ${l.name}`}
                  checked={selected.includes(l.code)}
                  onChange={() => toggle(l.code)}
                />
              </td>
              <td>
                <code>{l.code}</code>
              </td>
              <td>{l.name}</td>
              <td>{l.script}</td>
              <td>
                {l.tier === 'reference' ? (
                  <span data-testid="reference-tier">{TIER_LABELS.reference} (fixed)</span>
                ) : (
                  <select aria-label={`tier of ${l.name}`} value={l.tier} onChange={(e) => void changeTier(l.code, e.target.value as Tier)}>
                    {TIERS.map((t) => (
                      <option key={t} value={t}>
                        {TIER_LABELS[t]}
                      </option>
                    ))}
                  </select>
                )}
                {l.tier !== l.defaultTier && <span className="badge">edited</span>}
              </td>
              <td>
                {l.builtIn ? (
                  <span className="hint">preset</span>
                ) : (
                  <button type="button" aria-label={`remove ${l.name}`} onClick={() => void remove(l.code)}>
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorMessage error={error} />
      <form
        className="add-language"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <label>
          Add a language of the UDHR corpus (code in any case, such as <code>de</code>, <code>zh-Hant</code>, <code>pt_BR</code> or{' '}
          <code>deu_1996</code>):{' '}
          <input value={newCode} list="corpus-languages" onChange={(e) => setNewCode(e.target.value)} aria-label="language code to add" />
          <datalist id="corpus-languages">
            {corpus.filter((c) => !c.registered).map((c) => (
              <option key={c.corpusCode} value={c.corpusCode}>{c.name}</option>
            ))}
          </datalist>
        </label>
        <button type="submit" disabled={!newCode.trim()}>
          Add
        </button>
        <ErrorMessage error={addError} />
      </form>
      <p>{selected.length} selected</p>
    </section>
  );
}
