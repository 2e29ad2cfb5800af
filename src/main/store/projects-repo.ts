// Projects in SQLite: one row per project, its state one JSON document checked against the
// contract's schema whenever it is read, so a damaged row is an error for that project alone.
// Saves are optimistic: a save names the revision it was based on, and the UPDATE matches only
// that revision, so of two windows saving the same revision exactly one wins and the other gets
// CONFLICT (it reloads the winner's state) — atomic across processes sharing the file.
import { storedProjectState } from '../../shared/contract';
import type { Project, ProjectListItem, ProjectState } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { storeCall, type Db } from './db';

interface Row {
  id: number;
  name: string;
  kind: 'user' | 'demo';
  revision: number;
  state_json: string;
  created_at: string;
  updated_at: string;
  opened_at: string | null;
}

/** The stored state, or why it cannot be read (never quoting the stored text). */
function parseState(row: Row): { state: ProjectState } | { problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(row.state_json);
  } catch {
    return { problem: `the stored state of project "${row.name}" (id ${row.id}) is not valid JSON; delete the project or open another` };
  }
  const parsed = storedProjectState.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.map(String).join('.').slice(0, 60) : 'the document';
    return { problem: `the stored state of project "${row.name}" (id ${row.id}) is damaged (${where}: ${issue.message.slice(0, 80)}); delete the project or open another` };
  }
  return { state: parsed.data as ProjectState };
}

function listItem(row: Row): ProjectListItem {
  const parsed = parseState(row);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    openedAt: row.opened_at,
    problem: 'problem' in parsed ? parsed.problem : null,
  };
}

const notFound = (id: number) => new ApiError('PROJECT_NOT_FOUND', `project ${id} does not exist (it was deleted, or never created); choose another project`, { id });

export class ProjectsRepo {
  constructor(private readonly db: Db) {}

  private row(id: number): Row {
    const row = storeCall('read the project', () => this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as Row | undefined);
    if (!row) throw notFound(id);
    return row;
  }

  /** Most recently opened first, then newest. */
  list(): ProjectListItem[] {
    const rows = storeCall('list the projects', () =>
      this.db.prepare('SELECT * FROM projects ORDER BY open_seq IS NULL, open_seq DESC, updated_at DESC, id DESC').all() as Row[],
    );
    return rows.map(listItem);
  }

  item(id: number): ProjectListItem {
    return listItem(this.row(id));
  }

  /** PROJECT_NOT_FOUND, or PROJECT_CORRUPT for a row whose state cannot be read. */
  get(id: number): Project {
    const row = this.row(id);
    const parsed = parseState(row);
    if ('problem' in parsed) throw new ApiError('PROJECT_CORRUPT', parsed.problem, { id });
    return { ...listItem(row), state: parsed.state };
  }

  lastOpened(): ProjectListItem | null {
    const row = storeCall('read the projects', () =>
      this.db.prepare('SELECT * FROM projects WHERE open_seq IS NOT NULL ORDER BY open_seq DESC LIMIT 1').get() as Row | undefined,
    );
    return row ? listItem(row) : null;
  }

  demo(): ProjectListItem | null {
    const row = storeCall('read the projects', () => this.db.prepare("SELECT * FROM projects WHERE kind = 'demo'").get() as Row | undefined);
    return row ? listItem(row) : null;
  }

  /** A new project at revision 1. There is one demo project: creating a second (two processes
   * starting on a fresh database) returns the one that is there. */
  create(name: string, kind: 'user' | 'demo', state: ProjectState): Project {
    const now = new Date().toISOString();
    const info = storeCall('create the project', () =>
      this.db
        .prepare(`INSERT ${kind === 'demo' ? 'OR IGNORE ' : ''}INTO projects (name, kind, revision, state_json, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)`)
        .run(name, kind, JSON.stringify(state), now, now),
    );
    if (info.changes === 0) return this.get(this.demo()!.id);
    return this.get(Number(info.lastInsertRowid));
  }

  /** Stores `state` if the project is still at `revision`; CONFLICT (details: the stored revision)
   * when another save came first. */
  save(id: number, revision: number, state: ProjectState): { revision: number; updatedAt: string } {
    const now = new Date().toISOString();
    const changed = storeCall('save the project', () =>
      this.db
        .prepare('UPDATE projects SET state_json = ?, revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?')
        .run(JSON.stringify(state), now, id, revision).changes,
    );
    if (changed === 0) {
      const row = this.row(id);
      throw new ApiError(
        'CONFLICT',
        `project "${row.name}" was changed elsewhere (another window saved revision ${row.revision}; this change was based on ${revision}); its latest state is loaded again`,
        { id, revision: row.revision },
      );
    }
    return { revision: revision + 1, updatedAt: now };
  }

  /** The name is not part of the state: renaming does not make another window's next save a conflict. */
  rename(id: number, name: string): ProjectListItem {
    const changed = storeCall('rename the project', () =>
      this.db.prepare('UPDATE projects SET name = ?, updated_at = ? WHERE id = ?').run(name, new Date().toISOString(), id).changes,
    );
    if (changed === 0) throw notFound(id);
    return this.item(id);
  }

  /** A user project with the same state (a damaged source is PROJECT_CORRUPT). */
  duplicate(id: number, name?: string): ProjectListItem {
    const source = this.get(id);
    return listItem(this.row(this.create(name ?? `${source.name} (copy)`, 'user', source.state).id));
  }

  delete(id: number): void {
    const changed = storeCall('delete the project', () => this.db.prepare('DELETE FROM projects WHERE id = ?').run(id).changes);
    if (changed === 0) throw notFound(id);
  }

  markOpened(id: number): void {
    const changed = storeCall('open the project', () =>
      this.db.prepare('UPDATE projects SET opened_at = ?, open_seq = (SELECT COALESCE(MAX(open_seq), 0) + 1 FROM projects) WHERE id = ?').run(new Date().toISOString(), id).changes,
    );
    if (changed === 0) throw notFound(id);
  }
}
