// The open project in the header: its name, the Projects and Run history panels, what happened to
// it (a conflict resolved, a damaged project) and folders it names that moved, with a way to
// point it at their new place.
import { useState } from 'react';
import { errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { panel, togglePanel } from '../../state/panel';
import { project, relocateProject } from '../../state/project-sync';
import { useStore } from '../../state/store';

function Relocate({ what, kind, path, message }: { what: string; kind: 'model' | 'saes'; path: string; message: string }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await relocateProject({ [kind]: value.trim() });
    } catch (e) {
      setError({ code: (e as { code?: string }).code, message: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="moved" data-testid={`moved-${kind}`} data-path={path}>
      <p className="error" role="alert" data-code="MOVED">
        {message}
      </p>
      <FolderField label={`New place of the ${what}:`} name={`relocate ${kind}`} value={value} dialogTitle={`Choose the ${what}'s new place`} onChange={setValue}>
        <button type="button" disabled={busy || !value.trim()} onClick={() => void submit()}>
          Relocate
        </button>
      </FolderField>
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
    </div>
  );
}

export function ProjectBar() {
  const p = useStore(project, (s) => s);
  const open = useStore(panel, (s) => s.open);
  return (
    <div className="project-bar" data-project={p.id ?? undefined} data-revision={p.revision} data-saving={p.saving ? 'true' : 'false'}>
      <p>
        Project: <strong data-testid="project-name">{p.name || '…'}</strong>
        {p.kind === 'demo' && <span className="hint"> (the bundled demo)</span>}
        {p.saving && <span className="hint"> saving…</span>}
        {p.opening && (
          <span className="hint" role="status" data-testid="project-opening">
            {' '}
            opening project… (the steps take input once it is open)
          </span>
        )}{' '}
        <button type="button" aria-expanded={open === 'projects'} onClick={() => togglePanel('projects')}>
          Projects
        </button>{' '}
        <button type="button" aria-expanded={open === 'runs'} onClick={() => togglePanel('runs')}>
          Run history
        </button>
      </p>
      {p.notice && (
        <p className="notice" role="status" data-testid="project-notice">
          {p.notice}{' '}
          <button type="button" className="link" onClick={() => project.set({ notice: null })}>
            Dismiss
          </button>
        </p>
      )}
      <ErrorMessage error={p.error?.message ?? null} code={p.error?.code} />
      {p.status?.model.state === 'missing' && <Relocate what="model folder" kind="model" path={p.status.model.path} message={p.status.model.message ?? ''} />}
      {p.status?.saes.state === 'missing' && <Relocate what="SAE folder" kind="saes" path={p.status.saes.path} message={p.status.saes.message ?? ''} />}
    </div>
  );
}
