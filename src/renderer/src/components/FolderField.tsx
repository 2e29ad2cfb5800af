import { useState, type ReactNode } from 'react';
import { ApiError } from '../../../shared/errors';
import { api, errorMessage } from '../api';

/** A folder path field with a Browse… button: the native dialog in the desktop app; where there is
 * none (the browser harness answers NOT_AVAILABLE) a hint says to type the path. `children` are
 * extra controls placed after Browse… (e.g. an Inspect button). */
export function FolderField(props: {
  label: ReactNode;
  /** The input's accessible name. */
  name: string;
  value: string;
  placeholder?: string;
  dialogTitle: string;
  onChange(value: string): void;
  /** Called after the dialog returned a folder (and after onChange). */
  onPicked?(path: string): void;
  children?: ReactNode;
}) {
  const [hint, setHint] = useState<string | null>(null);

  const browse = async () => {
    setHint(null);
    try {
      const picked = await api.dialog.openFolder({ title: props.dialogTitle });
      if (picked.path) {
        props.onChange(picked.path);
        props.onPicked?.(picked.path);
      }
    } catch (e) {
      setHint(e instanceof ApiError && e.code === 'NOT_AVAILABLE' ? 'No file dialog here: type the folder path.' : errorMessage(e));
    }
  };

  return (
    <div className="folder-field">
      <label>
        {props.label}{' '}
        <input aria-label={props.name} value={props.value} placeholder={props.placeholder} onChange={(e) => props.onChange(e.target.value)} />
      </label>
      <button type="button" onClick={() => void browse()}>Browse…</button>
      {props.children}
      {hint && <span className="hint">{hint}</span>}
    </div>
  );
}
