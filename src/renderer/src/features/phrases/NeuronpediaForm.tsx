// The Neuronpedia source: an export folder the user downloaded, the source id, the features (by
// index or by a search of their explanations), the tokenizer that detokenises the export's tokens
// (the model's folder by default) and the phrases file written; Extract runs `phrases.neuronpedia`.
import { FolderField } from '../../components/FolderField';
import { useStore } from '../../state/store';
import type { NeuronpediaForm as Form } from './data';
import { setChoices, startNeuronpedia } from './dataset';
import { wizard } from '../../state/wizard';

export function NeuronpediaForm() {
  const form = useStore(wizard, (w) => w.phrases.neuronpediaForm);
  const set = (patch: Partial<Form>) => setChoices((c) => ({ neuronpediaForm: { ...c.neuronpediaForm, ...patch } }));
  return (
    <div className="phrases-form">
      <FolderField label="Export folder:" name="Neuronpedia export folder" value={form.export} placeholder="/data/neuronpedia (holds v1/<model>/<source>/)" dialogTitle="Neuronpedia export folder" onChange={(v) => set({ export: v })} />
      <label>
        Neuronpedia source <input aria-label="Neuronpedia source" value={form.source} placeholder="20-gemmascope-res-16k" onChange={(e) => set({ source: e.target.value })} />
      </label>
      <label>
        Choose features by{' '}
        <select aria-label="choose features by" value={form.by} onChange={(e) => set({ by: e.target.value as Form['by'] })}>
          <option value="features">their indices</option>
          <option value="search">a search of their explanations</option>
        </select>
      </label>
      {form.by === 'features' ? (
        <label>
          Features <input aria-label="feature indices" value={form.features} placeholder="5, 42, 1030" onChange={(e) => set({ features: e.target.value })} />
        </label>
      ) : (
        <label>
          Search <input aria-label="explanation search" value={form.search} placeholder="words of the explanations" onChange={(e) => set({ search: e.target.value })} />
        </label>
      )}
      <FolderField label="Tokenizer folder:" name="tokenizer folder" value={form.tokenizer} dialogTitle="Folder with the tokenizer.json of the export's model" onChange={(v) => set({ tokenizer: v })} />
      <label>
        Phrases file written <input aria-label="phrases file written" value={form.out} placeholder="/data/phrases.jsonl" onChange={(e) => set({ out: e.target.value })} />
      </label>
      <button type="button" className="primary" onClick={() => void startNeuronpedia()}>
        Extract phrases
      </button>
      <p className="hint">
        Each feature keeps the records whose peak reaches 80 % of its maximum (Neuronpedia's <code>maxActApprox</code>), cut to a window around the peak and
        de-duplicated; the CLI <code>linguascope phrases neuronpedia</code> sets the rule, the maximum and the window.
      </p>
    </div>
  );
}
