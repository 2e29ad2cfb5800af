// The project's fine-tune adapter: the project keeps only the Fine-tune step's run folder; the folder
// is the run's record, so the adapter is read from it (finetune.status), and only a finished run's.
import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api';

export interface FinetuneAdapter {
  /** The finished run's PEFT adapter folder, or null. */
  adapterDir: string | null;
  /** Why there is none (no run folder, a run still going, a folder that holds no run). */
  note: string;
}

export function useFinetuneAdapter(runFolder: string, refreshKey: unknown): FinetuneAdapter {
  const dir = runFolder.trim();
  const [found, setFound] = useState<FinetuneAdapter & { dir: string }>({ dir: '', adapterDir: null, note: 'the project has no fine-tune run folder' });
  useEffect(() => {
    if (!dir) return setFound({ dir, adapterDir: null, note: 'the project has no fine-tune run folder' });
    let live = true;
    api.finetune.status({ dir }).then(
      (status) => live && setFound({ dir, adapterDir: status.result?.adapterDir ?? null, note: status.result ? '' : `the fine-tune in ${dir} has not finished` }),
      (e: unknown) => live && setFound({ dir, adapterDir: null, note: `no finished fine-tune in ${dir}: ${errorMessage(e)}` }),
    );
    return () => {
      live = false;
    };
  }, [dir, refreshKey]);
  return found.dir === dir ? found : { adapterDir: null, note: 'reading the fine-tune run folder…' };
}
