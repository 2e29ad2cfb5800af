// Which workbench panel (projects, run history) is open above the wizard step: one at a time.
import { createStore } from './store';

export type PanelId = 'projects' | 'runs';

export const panel = createStore<{ open: PanelId | null }>({ open: null });

export function togglePanel(id: PanelId): void {
  panel.set((s) => ({ open: s.open === id ? null : id }));
}
