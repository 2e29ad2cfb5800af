// The projects list: open, create, rename, duplicate, delete. A damaged project is listed with
// why it cannot be opened; it can still be renamed or deleted.
import { useEffect, useState } from 'react';
import type { ProjectListItem } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { panel } from '../../state/panel';
import { projectStateOf } from '../../state/project-state';
import { flushSave, openProject, project } from '../../state/project-sync';
import { useStore } from '../../state/store';
import { INITIAL_WIZARD } from '../../state/wizard';

const when = (iso: string) => new Date(iso).toLocaleString();

export function ProjectsPanel() {
  const current = useStore(project, (s) => s.id);
  const [list, setList] = useState<ProjectListItem[] | null>(null);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);
  const [newName, setNewName] = useState('');
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);

  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    }
    try {
      setList(await api.projects.list({}));
    } catch (e) {
      setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    }
  };
  useEffect(() => void act(async () => undefined), []);

  const open = (id: number) =>
    act(async () => {
      await flushSave();
      if (await openProject(id)) panel.set({ open: null });
      else throw new ApiError((project.get().error?.code as never) ?? 'INTERNAL', project.get().error?.message ?? 'the project could not be opened');
    });
  const create = () =>
    act(async () => {
      const made = await api.projects.create({ name: newName.trim(), state: projectStateOf(INITIAL_WIZARD, {}) });
      setNewName('');
      await open(made.id);
    });

  return (
    <section className="panel projects-panel" aria-label="Projects">
      <h2>Projects</h2>
      <p className="hint">A project keeps the model, the SAEs per layer, the languages and tiers, the settings and the step you were on; changes are saved as you make them.</p>
      <form
        className="new-project"
        onSubmit={(e) => {
          e.preventDefault();
          if (newName.trim()) void create();
        }}
      >
        <label>
          New project: <input aria-label="new project name" value={newName} maxLength={200} onChange={(e) => setNewName(e.target.value)} />
        </label>{' '}
        <button type="submit" disabled={!newName.trim()}>
          Create
        </button>
      </form>
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {list && (
        <table className="projects">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Changed</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.id} data-project={p.id} aria-current={p.id === current ? 'true' : undefined}>
                <td>
                  {renaming?.id === p.id ? (
                    <form
                      onSubmit={(e) => {
                        e.preventDefault();
                        const name = renaming.name.trim();
                        if (!name) return;
                        void act(async () => {
                          await api.projects.rename({ id: p.id, name });
                          if (p.id === project.get().id) project.set({ name });
                        }).then(() => setRenaming(null));
                      }}
                    >
                      <input aria-label={`new name for ${p.name}`} value={renaming.name} maxLength={200} autoFocus onChange={(e) => setRenaming({ id: p.id, name: e.target.value })} />{' '}
                      <button type="submit">Save name</button>
                    </form>
                  ) : (
                    <>
                      {p.name}
                      {p.kind === 'demo' && <span className="hint"> (demo)</span>}
                      {p.id === current && <span className="hint"> (open)</span>}
                    </>
                  )}
                  {p.problem && (
                    <p className="error" data-code="PROJECT_CORRUPT">
                      {p.problem}
                    </p>
                  )}
                </td>
                <td>{when(p.updatedAt)}</td>
                <td className="actions">
                  <button type="button" disabled={!!p.problem || p.id === current} onClick={() => void open(p.id)}>
                    Open
                  </button>{' '}
                  <button type="button" onClick={() => setRenaming({ id: p.id, name: p.name })}>
                    Rename
                  </button>{' '}
                  <button type="button" disabled={!!p.problem} onClick={() => void act(() => api.projects.duplicate({ id: p.id }))}>
                    Duplicate
                  </button>{' '}
                  <button
                    type="button"
                    disabled={p.id === current}
                    title={p.id === current ? 'open another project first' : undefined}
                    onClick={() => {
                      if (confirm(`Delete the project "${p.name}"? Its runs stay in the run history.`)) void act(() => api.projects.delete({ id: p.id }));
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
