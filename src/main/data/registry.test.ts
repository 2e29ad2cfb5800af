import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { openDatabase } from '../store/db';
import { LanguagesRepo } from '../store/languages-repo';
import { LanguageRegistry } from './registry';

const tmp = tempDir();
const dbPath = join(tmp.dir, 'registry.db');
const open = () => {
  const db = openDatabase(dbPath);
  return { db, registry: new LanguageRegistry(new LanguagesRepo(db)) };
};

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('LanguageRegistry', () => {
  afterAll(() => tmp.cleanup());

  it("lists the paper's ten languages with their tiers", () => {
    const { db, registry } = open();
    const list = registry.list();
    expect(list.map((l) => `${l.code}:${l.tier}`)).toEqual([
      'en:reference', 'zh:high', 'ru:high', 'es:high', 'it:high',
      'id:medium-low', 'ca:medium-low', 'mr:medium-low', 'ml:medium-low', 'hi:medium-low',
    ]);
    expect(list.find((l) => l.code === 'ml')).toMatchObject({ name: 'Malayalam', script: 'Malayalam', corpusCode: 'mal' });
    db.close();
  });

  it('keeps tier edits across restarts and forgets an edit set back to the default', () => {
    let { db, registry } = open();
    expect(registry.setTier('id', 'high')).toMatchObject({ tier: 'high', defaultTier: 'medium-low' });
    db.close();
    ({ db, registry } = open());
    expect(registry.get('id').tier).toBe('high');
    registry.setTier('id', 'medium-low');
    expect(db.prepare('SELECT COUNT(*) AS n FROM language_tiers').get()).toEqual({ n: 0 });
    db.close();
  });

  it('adds a corpus language by BCP-47 tag or UDHR code, with its script detected', () => {
    const { db, registry } = open();
    expect(registry.add('de')).toMatchObject({ code: 'de', corpusCode: 'deu_1996', script: 'Latin', tier: 'medium-low', builtIn: false });
    expect(registry.add('arb', 'high')).toMatchObject({ script: 'Arabic', tier: 'high' });
    expect(registry.add('jpn')).toMatchObject({ script: 'Japanese' });
    expect(apiError(() => registry.add('de')).code).toBe('INVALID_ARGUMENT');
    expect(registry.remove('de')).toBe(true);
    expect(apiError(() => registry.remove('en')).code).toBe('INVALID_ARGUMENT');
    db.close();
  });

  it('names every unknown language in one typed error, and hints when the corpus has it', () => {
    const { db, registry } = open();
    const unknown = apiError(() => registry.resolve(['en', 'xx', 'qq']));
    expect(unknown.code).toBe('UNKNOWN_LANGUAGE');
    expect(unknown.message).toContain('"xx", "qq"');
    expect(unknown.details).toEqual({ codes: ['xx', 'qq'] });
    expect(apiError(() => registry.resolve(['fr'])).message).toContain('add it first');
    expect(apiError(() => registry.add('xx')).code).toBe('UNKNOWN_LANGUAGE');
    db.close();
  });
});
