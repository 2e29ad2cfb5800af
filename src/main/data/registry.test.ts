import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { MIGRATIONS, openDatabase } from '../store/db';
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
    expect(registry.add('arb', 'high')).toMatchObject({ code: 'ar', script: 'Arabic', tier: 'high' });
    expect(registry.add('jpn')).toMatchObject({ code: 'ja', script: 'Japanese' });
    expect(registry.add(' ZH_hant ')).toMatchObject({ code: 'zh-Hant', corpusCode: 'cmn_hant', script: 'Han' });
    expect(registry.remove('de')).toBe(true);
    for (const code of ['ar', 'ja', 'zh-Hant']) registry.remove(code);
    db.close();
  });

  // Every spelling of a registered language: case, `_`, ISO 639-3 and corpus codes, a script the
  // corpus leaves implicit, whitespace. Before: "EN" was added as a second English.
  it.each([
    ['EN', 'en'], ['eng', 'en'], [' en ', 'en'], ['en-Latn', 'en'], ['ZH-hans', 'zh'], ['zh_Hans', 'zh'], ['CMN_HANS', 'zh'],
    ['Hi', 'hi'], ['mal', 'ml'], ['RUS', 'ru'],
  ])('refuses to add %j: it is the registered "%s"', (input, registered) => {
    const { db, registry } = open();
    const before = registry.list();
    const error = apiError(() => registry.add(input));
    expect(error.code).toBe('LANGUAGE_ALREADY_REGISTERED');
    expect(error.details).toEqual({ code: input.trim(), registered });
    expect(error.message).toContain(`already in the registry as "${registered}"`);
    expect(registry.list()).toEqual(before);
    db.close();
  });

  it('refuses a second add of a user-added language under another spelling', () => {
    const { db, registry } = open();
    registry.add('de');
    for (const spelling of ['DE', 'deu', 'deu_1996', 'DE-1996', 'de_1996']) {
      expect(apiError(() => registry.add(spelling)).details).toEqual({ code: spelling, registered: 'de' });
    }
    expect(registry.list().filter((l) => l.corpusCode === 'deu_1996')).toHaveLength(1);
    // Another orthography of German is another text, so it may be added beside it.
    expect(registry.add('de-1901').code).toBe('de-1901');
    registry.remove('DE');
    registry.remove('deu_1901');
    expect(registry.list()).toHaveLength(10);
    db.close();
  });

  it('keeps exactly one reference, English: no second reference, no demotion, no added reference', () => {
    const { db, registry } = open();
    const before = registry.list();
    for (const [code, tier] of [['zh', 'reference'], ['ZH', 'reference'], ['en', 'high'], ['EN', 'medium-low']] as const) {
      const error = apiError(() => registry.setTier(code, tier));
      expect(error.code).toBe('REFERENCE_LANGUAGE_FIXED');
      expect(error.details).toMatchObject({ tier, reference: 'en' });
    }
    expect(apiError(() => registry.add('de', 'reference')).code).toBe('REFERENCE_LANGUAGE_FIXED');
    registry.add('fr');
    expect(apiError(() => registry.setTier('fr', 'reference')).code).toBe('REFERENCE_LANGUAGE_FIXED');
    expect(registry.setTier('en', 'reference').tier).toBe('reference');
    registry.remove('fr');
    expect(registry.list()).toEqual(before);
    expect(registry.list().filter((l) => l.tier === 'reference').map((l) => l.code)).toEqual(['en']);
    db.close();
  });

  it('sets tiers and removes languages under any spelling of their code', () => {
    const { db, registry } = open();
    expect(registry.setTier('ID', 'high')).toMatchObject({ code: 'id', tier: 'high' });
    expect(registry.setTier('ind', 'medium-low')).toMatchObject({ code: 'id', tier: 'medium-low' });
    registry.add('pt-BR');
    expect(registry.setTier('POR_br', 'high')).toMatchObject({ code: 'pt-BR', tier: 'high' });
    expect(registry.remove('pt_br')).toBe(true);
    expect(apiError(() => registry.get('pt-BR')).code).toBe('UNKNOWN_LANGUAGE');
    db.close();
  });

  it('removes user-added languages but not the paper presets (deselect them instead)', () => {
    const { db, registry } = open();
    for (const code of ['en', 'EN', 'zh', 'hi', 'cmn_hans']) {
      const error = apiError(() => registry.remove(code));
      expect(error.code).toBe('LANGUAGE_NOT_REMOVABLE');
      expect(error.message).toContain('deselect it instead');
    }
    expect(apiError(() => registry.remove('fr')).code).toBe('UNKNOWN_LANGUAGE');
    expect(apiError(() => registry.remove('en us')).code).toBe('INVALID_ARGUMENT');
    registry.add('fr');
    expect(registry.remove('fr')).toBe(true);
    expect(apiError(() => registry.remove('fr')).code).toBe('UNKNOWN_LANGUAGE');
    expect(registry.list()).toHaveLength(10);
    db.close();
  });

  it('maps spellings to registry codes for callers that index by code', () => {
    const { db, registry } = open();
    expect(registry.canonicalCodes(['EN', 'zh_Hans', 'en', ' hi '])).toEqual(['en', 'zh', 'hi']);
    expect(apiError(() => registry.canonicalCodes(['EN', 'fr', 'qq'])).details).toEqual({ codes: ['fr', 'qq'] });
    expect(apiError(() => registry.resolve(['EN'])).message).toContain('registered as "en" for "EN"');
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

  it('repairs a database the old code left with duplicates, case variants and a second reference', () => {
    const path = join(tmp.dir, 'old.db');
    const old = openDatabase(path, MIGRATIONS.filter((m) => m.id < '20261130T0300'));
    const insert = old.prepare('INSERT INTO custom_languages (code, name, script, corpus_code, tier, added_at) VALUES (?, ?, ?, ?, ?, ?)');
    insert.run('EN', 'English', 'Latin', 'eng', 'medium-low', '2026-11-01T00:00:00Z');
    insert.run('de', 'German, Standard (1996)', 'Latin', 'deu_1996', 'high', '2026-11-02T00:00:00Z');
    insert.run('DE', 'German, Standard (1996)', 'Latin', 'deu_1996', 'medium-low', '2026-11-03T00:00:00Z');
    insert.run('deu_1996', 'German, Standard (1996)', 'Latin', 'deu_1996', 'medium-low', '2026-11-03T00:00:00Z');
    insert.run('ZH-hans', 'Chinese, Mandarin (Simplified)', 'Han', 'cmn_hans', 'high', '2026-11-04T00:00:00Z');
    insert.run('FR', 'French', 'Latin', 'fra', 'reference', '2026-11-05T00:00:00Z');
    const tiers = old.prepare('INSERT INTO language_tiers (code, tier, updated_at) VALUES (?, ?, ?)');
    tiers.run('zh', 'reference', '2026-11-06T00:00:00Z');
    tiers.run('en', 'high', '2026-11-06T00:00:00Z');
    tiers.run('id', 'high', '2026-11-06T00:00:00Z');
    old.close();

    const db = openDatabase(path);
    const registry = new LanguageRegistry(new LanguagesRepo(db));
    const list = registry.list();
    expect(list.map((l) => `${l.code}:${l.tier}`)).toEqual([
      'en:reference', 'zh:high', 'ru:high', 'es:high', 'it:high',
      'id:high', 'ca:medium-low', 'mr:medium-low', 'ml:medium-low', 'hi:medium-low',
      'de:high', 'fr:medium-low',
    ]);
    expect(new Set(list.map((l) => l.corpusCode)).size).toBe(list.length);
    expect(db.prepare('SELECT corpus_code FROM custom_languages ORDER BY corpus_code').all()).toEqual([{ corpus_code: 'deu_1996' }, { corpus_code: 'fra' }]);
    expect(db.prepare('SELECT code, tier FROM language_tiers').all()).toEqual([{ code: 'id', tier: 'high' }]);
    // The repaired registry keeps its invariants.
    expect(registry.remove('DE')).toBe(true);
    expect(apiError(() => registry.add('EN')).code).toBe('LANGUAGE_ALREADY_REGISTERED');
    db.close();
  });
});
