// The Phrases step's data shaping: the dataset after an import or a translation, the languages it
// lacks, the requests (refused by class of bad field before they are sent), the report rows.
import { describe, expect, it } from 'vitest';
import type { DatasetImportResult, DatasetTranslateResult } from '../../../../shared/dataset';
import type { NeuronpediaPhrasesResult } from '../../../../shared/neuronpedia';
import {
  datasetOfImport,
  datasetOfPhrases,
  datasetOfTranslate,
  featureRows,
  importRequestOf,
  importRows,
  missingLanguages,
  neuronpediaRequestOf,
  parseLanguageList,
  previewLanguages,
  proposeDatasetFolder,
  translateRequestOf,
  translateRows,
  tryRequestOf,
} from './data';

const lang = (code: string, label: string, extra: Partial<DatasetImportResult['languages'][number]> = {}) => ({ code, label, files: [`${label}.parquet`], read: 3, empty: 0, duplicate: 0, incomplete: 0, flattened: 0, kept: 3, ...extra });

const imported: DatasetImportResult = {
  format: 'flores-parquet',
  split: 'dev',
  source: '/data/flores_plus',
  files: [],
  languages: [lang('en', 'eng_Latn'), lang('hi', 'hin_Deva', { read: 4, empty: 1, duplicate: 2, flattened: 1 }), lang('ml', 'mal_Mlym')],
  skipped: [{ label: 'cmn_Hant', files: [], rows: 3, why: 'no registered language' }],
  segments: { read: 4, kept: 3 },
  corpus: '/out/import/corpus.tsv',
  report: '/out/import/import.json',
  preview: [],
};

const translated: DatasetTranslateResult = {
  source: '/out/import/corpus.tsv',
  sourceLanguage: 'en',
  languagesKept: ['en', 'hi', 'ml'],
  corpus: '/out/tr/corpus.tsv',
  report: '/out/tr/translation.json',
  segments: { read: 3, kept: 3 },
  languages: [
    { code: 'zh', model: '/m/opus', fingerprint: 'f', settings: { numBeams: 4, maxLength: 512, lengthPenalty: 1, targetToken: '>>cmn_Hans<<', batch: 16 }, count: 3, cached: 1, empty: 0, seconds: 0.25, quality: null },
    // A language the corpus had: its texts kept, the translation scored against them.
    { code: 'hi', model: '/m/hi', fingerprint: 'g', settings: { numBeams: 1, maxLength: 64, lengthPenalty: 1, targetToken: null, batch: 16 }, count: 3, cached: 0, empty: 1, seconds: 2, quality: { bleu: 12.3456, chrfpp: 40.5 } },
  ],
  features: null,
  preview: [],
};

describe('the dataset the step holds', () => {
  it('an import has its languages in the files order and its corpus', () => {
    const d = datasetOfImport(imported);
    expect(d).toMatchObject({ origin: 'import', source: '/out/import/corpus.tsv', corpus: '/out/import/corpus.tsv', languages: ['en', 'hi', 'ml'] });
  });

  it('a translation adds its targets after the languages kept, and keeps the import report', () => {
    const d = datasetOfTranslate(translated, datasetOfImport(imported));
    // hi was scored, not added: listed once, where the import had it.
    expect(d.languages).toEqual(['en', 'hi', 'ml', 'zh']);
    expect(d.corpus).toBe('/out/tr/corpus.tsv');
    expect(d.imported).toBe(imported);
    expect(d.translated).toBe(translated);
    // A translated phrases file: English and the targets.
    const fromPhrases = datasetOfTranslate({ ...translated, languagesKept: ['en'], features: '/out/tr/phrases.json' }, datasetOfPhrases('/p.jsonl'));
    expect(fromPhrases.languages).toEqual(['en', 'zh', 'hi']);
    expect(fromPhrases.features).toBe('/out/tr/phrases.json');
    expect(fromPhrases.imported).toBeNull();
  });

  it('a phrases file is English only, with no corpus until translated', () => {
    expect(datasetOfPhrases('/p.jsonl')).toMatchObject({ origin: 'phrases', source: '/p.jsonl', corpus: null, languages: ['en'], extracted: null });
    // Its extraction report is kept through the translation.
    const extracted = { out: '/p.jsonl' } as NeuronpediaPhrasesResult;
    expect(datasetOfTranslate(translated, datasetOfPhrases('/p.jsonl', extracted)).extracted).toBe(extracted);
  });

  it('lacks the project languages it does not have, in the project order', () => {
    expect(missingLanguages(['en', 'zh', 'hi', 'ca', 'ml'], datasetOfImport(imported))).toEqual(['zh', 'ca']);
    expect(missingLanguages(['en', 'hi'], datasetOfImport(imported))).toEqual([]);
    expect(missingLanguages(['en', 'hi'], null)).toEqual([]);
  });

  it('previews the project languages first, then the dataset others', () => {
    expect(previewLanguages(['ml', 'en', 'zh'], { languages: ['en', 'hi', 'ml'] })).toEqual(['ml', 'en', 'hi']);
  });
});

describe('the import request', () => {
  const good = { path: '/data/flores_plus', languages: '', split: 'dev' as const, outDir: '/out/import' };

  it('sends every language the files hold when the list is blank, else the list', () => {
    expect(importRequestOf(good)).toEqual({ request: { path: '/data/flores_plus', outDir: '/out/import', split: 'dev' }, problems: [] });
    expect(importRequestOf({ ...good, languages: ' en, hi  ml,en ' }).request.languages).toEqual(['en', 'hi', 'ml']);
    expect(parseLanguageList(' ,; ')).toBeNull();
  });

  it.each([
    ['no path', { path: '  ' }, /^Files to import: type the path/],
    ['no output folder', { outDir: '' }, /^Dataset folder: type/],
    ['a path over the length limit', { path: `/${'x'.repeat(5000)}` }, /^Files to import: /],
    ['a malformed language code', { languages: 'en, Hindi!' }, /^Languages to import: /],
  ])('names %s', (_, patch, message) => {
    const { problems } = importRequestOf({ ...good, ...patch });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(message);
  });
});

describe('the translation request', () => {
  const d = datasetOfImport(imported);
  const targets = { zh: { model: ' /m/opus ', targetToken: '>>cmn_Hans<<' }, ca: { model: '/m/ca', targetToken: '' } };

  it('translates from the dataset source language into each missing language with its folder and token', () => {
    const { request, problems } = translateRequestOf(d, ['zh', 'ca'], targets, '/out/tr', 2);
    expect(problems).toEqual([]);
    expect(request).toEqual({
      source: '/out/import/corpus.tsv',
      sourceLanguage: 'en',
      targets: [
        { language: 'zh', model: '/m/opus', targetToken: '>>cmn_Hans<<' },
        { language: 'ca', model: '/m/ca' },
      ],
      outDir: '/out/tr',
      beams: 2,
    });
    expect(translateRequestOf(d, ['zh'], targets, '/out/tr', null).request).not.toHaveProperty('beams');
  });

  it.each([
    ['no dataset', null, ['zh'], targets, '/out/tr', null, /^Import files or choose a phrases file first/],
    ['nothing to translate', d, [], targets, '/out/tr', null, /already has every language/],
    ['a language without its folder', d, ['zh', 'ca', 'ru'], targets, '/out/tr', null, /^ru: choose the opus-mt folder/],
    ['no output folder', d, ['zh'], targets, ' ', null, /^Translated dataset folder: type/],
    ['a malformed target token', d, ['zh'], { zh: { model: '/m/opus', targetToken: 'cmn_Hans' } }, '/out/tr', null, /^zh target token \(like >>cmn_Hans<<\): /],
    ['a model folder over the length limit', d, ['zh'], { zh: { model: `/${'m'.repeat(5000)}`, targetToken: '' } }, '/out/tr', null, /^zh model folder: /],
    ['beams out of range', d, ['zh'], targets, '/out/tr', 0, /^Beams: /],
    ['fractional beams', d, ['zh'], targets, '/out/tr', 2.5, /^Beams: /],
  ] as const)('refuses %s, sending nothing', (_, dataset, languages, t, out, beams, message) => {
    const { request, problems } = translateRequestOf(dataset, languages, t, out, beams);
    expect(request).toBeNull();
    expect(problems.some((p) => message.test(p)), problems.join(' | ')).toBe(true);
  });
});

describe('a try of one target', () => {
  it('sends the sample with the folder, token and beams the translation would use', () => {
    expect(tryRequestOf('zh', { model: ' /m/opus ', targetToken: ' >>cmn_Hans<< ' }, ' A cat. ', 2)).toEqual({ request: { model: '/m/opus', texts: ['A cat.'], targetToken: '>>cmn_Hans<<', beams: 2 }, problems: [] });
    expect(tryRequestOf('hi', { model: '/m', targetToken: '' }, 'x', null).request).toEqual({ model: '/m', texts: ['x'] });
  });

  it.each([
    ['no folder', undefined, 'x', null, /^zh: choose the opus-mt folder/],
    ['an empty sample', { model: '/m', targetToken: '' }, '  ', null, /^Sample text: type a sentence/],
    ['a sample over the length limit', { model: '/m', targetToken: '' }, 'x'.repeat(20_000), null, /^Sample text: /],
    ['a malformed token', { model: '/m', targetToken: '<<zh>>' }, 'x', null, /^zh target token/],
    ['beams out of range', { model: '/m', targetToken: '' }, 'x', 33, /^Beams: /],
  ] as const)('refuses %s', (_, target, sample, beams, message) => {
    const { request, problems } = tryRequestOf('zh', target, sample, beams);
    expect(request).toBeNull();
    expect(problems.some((p) => message.test(p)), problems.join(' | ')).toBe(true);
  });
});

describe('the Neuronpedia request', () => {
  const good = { export: '/np', source: '20-gemmascope-res-16k', by: 'features' as const, features: '5, 42 42;1030', search: '', tokenizer: '/models/gemma', out: '/out/p.jsonl' };

  it('sends the features by index (each once) or the explanation search, never both', () => {
    expect(neuronpediaRequestOf(good)).toEqual({ request: { export: '/np', source: '20-gemmascope-res-16k', features: [5, 42, 1030], tokenizer: '/models/gemma', out: '/out/p.jsonl' }, problems: [] });
    expect(neuronpediaRequestOf({ ...good, by: 'search', search: ' newlines ' }).request).toEqual({ export: '/np', source: '20-gemmascope-res-16k', search: 'newlines', tokenizer: '/models/gemma', out: '/out/p.jsonl' });
  });

  it.each([
    ['no export folder', { export: ' ' }, /^Export folder: type/],
    ['no source', { source: '' }, /^Neuronpedia source: type/],
    ['a source id with a path in it', { source: '../etc' }, /^Neuronpedia source: /],
    ['no features', { features: ' , ' }, /^Features: type the feature indices/],
    ['a negative feature', { features: '5, -1' }, /^Features: "-1" is not a feature index/],
    ['a fractional feature', { features: '2.5' }, /^Features: "2\.5" is not a feature index/],
    ['a feature past the contract range', { features: '9999999999' }, /^Features: /],
    ['an empty search', { by: 'search' as const, search: '  ' }, /^Search: type words/],
    ['no tokenizer', { tokenizer: '' }, /^Tokenizer folder: type/],
    ['an output that is not .jsonl', { out: '/out/p.json' }, /^Phrases file: the file written must end in \.jsonl/],
  ])('refuses %s, sending nothing', (_, patch, message) => {
    const { request, problems } = neuronpediaRequestOf({ ...good, ...patch });
    expect(request).toBeNull();
    expect(problems.some((p) => message.test(p)), problems.join(' | ')).toBe(true);
  });
});

describe('report rows', () => {
  it('Neuronpedia: per feature its explanation, maximum, passing records, phrases and drops', () => {
    const result = {
      features: [
        { feature: 42, explanations: ['line breaks', 'other'], maxActApprox: 12.5, maximum: 12.3456789, records: 20, passing: 6, phrases: 4, dropped: { unmappable: 0, empty: 1, duplicate: 1, specialPeak: 0 } },
        { feature: 7, explanations: [], maxActApprox: null, maximum: null, records: 0, passing: 0, phrases: 0, dropped: { unmappable: 0, empty: 0, duplicate: 0, specialPeak: 0 } },
      ],
    } as unknown as NeuronpediaPhrasesResult;
    expect(featureRows(result)).toEqual([
      { feature: 42, explanation: 'line breaks', maximum: '12.3457', records: 20, passing: 6, phrases: 4, dropped: '1 empty; 1 repeating a phrase' },
      { feature: 7, explanation: '(none)', maximum: 'none', records: 0, passing: 0, phrases: 0, dropped: 'none' },
    ]);
  });

  it('import: kept and dropped per language, dropped reasons named, none when none', () => {
    expect(importRows(imported)).toEqual([
      { code: 'en', label: 'eng_Latn', read: 3, kept: 3, dropped: 'none' },
      { code: 'hi', label: 'hin_Deva', read: 4, kept: 3, dropped: '1 empty; 2 repeating a segment; 1 with tabs or line breaks written as spaces (kept)' },
      { code: 'ml', label: 'mal_Mlym', read: 3, kept: 3, dropped: 'none' },
    ]);
  });

  it('translation: model, settings with the token, cached and empty counts', () => {
    expect(translateRows(translated)).toEqual([
      { code: 'zh', model: '/m/opus', settings: 'beams 4, max length 512, token >>cmn_Hans<<', count: 3, cached: 1, empty: 0, seconds: '0.3', quality: 'none (a language added)' },
      { code: 'hi', model: '/m/hi', settings: 'beams 1, max length 64', count: 3, cached: 0, empty: 1, seconds: '2.0', quality: 'BLEU 12.35, chrF++ 40.50' },
    ]);
  });
});

describe('proposed folders', () => {
  it('sit beside the database, named by project and time', () => {
    const now = new Date(2026, 10, 30, 9, 5, 7);
    expect(proposeDatasetFolder('/home/u/.linguascope/app.db', 'My Study!', 'import', now)).toBe('/home/u/.linguascope/datasets/my-study-import-20261130-090507');
    expect(proposeDatasetFolder('C:\\Users\\u\\app.db', '', 'translated', now)).toBe('C:\\Users\\u\\datasets\\project-translated-20261130-090507');
  });
});
