import type { RunsRepo } from '../../store/runs-repo';
import type { HandlerMap } from '../handler';

export function runHandlers(repo: RunsRepo): HandlerMap<'runs.list' | 'runs.get' | 'runs.rename' | 'runs.delete'> {
  return {
    'runs.list': async ({ limit, summarySha256, kind }) => repo.list({ limit, summarySha256, kind }),
    'runs.get': async ({ id }) => repo.get(id),
    'runs.rename': async ({ id, name }) => repo.rename(id, name),
    'runs.delete': async ({ id }) => (repo.delete(id), { deleted: true as const }),
  };
}
