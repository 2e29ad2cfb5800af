// The wizard <-> project state mapping: a round trip keeps every choice, an unknown step opens the
// first one, and what was read from disk is never carried over.
import { describe, expect, it } from 'vitest';
import { projectStateInput } from '../../../shared/contract';
import { choicesOf, projectStateOf, summarySha256, wizardOf } from './project-state';
import { INITIAL_WIZARD, type WizardState } from './wizard';

const chosen: WizardState = {
  ...INITIAL_WIZARD,
  step: 'saes',
  selected: ['en', 'hi'],
  modelPath: '/m',
  saesPath: '/s',
  saeChoice: { 0: '/s/a', 2: null },
  runSettings: { ...INITIAL_WIZARD.runSettings, reduction: 'max', limit: 5 },
  runId: 7,
};

describe('project state', () => {
  it('round-trips the choices and is valid input for projects.save', () => {
    const state = projectStateOf(chosen, { en: 'reference', hi: 'medium-low', ml: 'medium-low' });
    expect(state.tiers).toEqual({ en: 'reference', hi: 'medium-low' });
    expect(state.saeChoice).toEqual({ '0': '/s/a', '2': null });
    expect(projectStateInput.safeParse(state).success).toBe(true);
    const back = { ...INITIAL_WIZARD, model: { path: '/old' } as never, summary: {} as never, ...wizardOf(state) };
    expect(choicesOf(back)).toEqual(choicesOf(chosen));
    expect(back.model).toBeNull();
    expect(back.summary).toBeNull();
    expect(back.modelChosenByUser).toBe(true);
  });

  it('opens an unknown step as the first one', () => {
    expect(wizardOf({ ...projectStateOf(chosen, {}), step: 'finetune' }).step).toBe('languages');
  });

  it('hashes a summary as the backend does (sha256 of its JSON as UTF-8)', async () => {
    // printf '%s' '{"layers":[0,1],"gap_percent":[1.5,null],"name":"é"}' | sha256sum
    expect(await summarySha256({ layers: [0, 1], gap_percent: [1.5, null], name: 'é' })).toBe('47e907732802242f3bafd6bf64c47353926fd9ca29cb4a3c7ccb66ce73a934f0');
  });
});
