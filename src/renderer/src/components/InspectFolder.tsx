import { useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../../../shared/errors';
import { errorMessage } from '../api';
import { ErrorMessage } from './ErrorMessage';
import { FolderField } from './FolderField';

export interface InspectError {
  code?: string;
  message: string;
}

export interface FolderInspect {
  /** The path as typed (or picked), not yet inspected. */
  draft: string;
  setDraft(value: string): void;
  busy: boolean;
  error: InspectError | null;
  inspect(path: string): Promise<void>;
  /** Shows `value` (e.g. the resolved path) in the field if it still holds `requested`: a path the
   * user typed while the inspection ran is never overwritten. */
  settleDraft(requested: string, value: string): void;
}

/** Inspects a folder: `read` gets the trimmed path; only the latest request may `accept` its result
 * (an earlier, slower one is dropped). A failure, thrown or returned by `accept`, is kept as a typed
 * error; the previous valid choice stays as it was. */
export function useFolderInspect<T>(
  initial: string,
  read: (path: string) => Promise<T>,
  accept: (result: T, path: string) => InspectError | void,
): FolderInspect {
  const [draft, setDraftState] = useState(initial);
  const current = useRef(initial);
  const setDraft = (value: string) => {
    current.current = value;
    setDraftState(value);
  };
  const settleDraft = (requested: string, value: string) => {
    if (current.current.trim() === requested.trim()) setDraft(value);
  };
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<InspectError | null>(null);
  const latest = useRef(0);

  const inspect = async (path: string) => {
    const request = ++latest.current;
    setError(null);
    setBusy(true);
    try {
      const result = await read(path.trim());
      if (request !== latest.current) return;
      const problem = accept(result, path.trim());
      if (problem) setError(problem);
    } catch (e) {
      if (request !== latest.current) return;
      setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    } finally {
      if (request === latest.current) setBusy(false);
    }
  };

  return { draft, setDraft, busy, error, inspect, settleDraft };
}

/** The folder field with its Inspect button, the busy note, the error in place and, while there is
 * an error, `kept` (what is still in use). */
export function InspectFolderForm(props: {
  folder: FolderInspect;
  className: string;
  label: ReactNode;
  /** The input's accessible name. */
  name: string;
  placeholder: string;
  dialogTitle: string;
  /** Shown while inspecting. */
  reading: ReactNode;
  kept: ReactNode;
  /** Called when the user (not the app) asks for a folder. */
  onUserChoice?: () => void;
}) {
  const { folder } = props;
  const choose = (path: string) => {
    props.onUserChoice?.();
    void folder.inspect(path);
  };
  return (
    <form
      className={props.className}
      onSubmit={(e) => {
        e.preventDefault();
        if (folder.draft.trim()) choose(folder.draft);
      }}
    >
      <FolderField
        label={props.label}
        name={props.name}
        value={folder.draft}
        placeholder={props.placeholder}
        dialogTitle={props.dialogTitle}
        onChange={folder.setDraft}
        onPicked={choose}
      >
        {/* Not disabled while a folder is being read: the latest request wins, and a disabled
            default button would silently swallow Enter in the field. */}
        <button type="submit" disabled={!folder.draft.trim()}>
          Inspect
        </button>
      </FolderField>
      {folder.busy && (
        <p className="hint" aria-busy="true">
          {props.reading}
        </p>
      )}
      <ErrorMessage error={folder.error?.message ?? null} code={folder.error?.code} />
      {folder.error && props.kept}
    </form>
  );
}
