// The Phrases step's data shaping: the dataset being built (an import, a phrases file, a
// translation of either), the languages it lacks, the requests it sends (checked by the contract's
// own schemas before they go), and the report rows it shows. Pure functions; dataset.ts does the calls.
import { backendContract, type Input } from '../../../../shared/contract';
import type { DatasetImportResult, DatasetTranslateResult } from '../../../../shared/dataset';
import type { ProjectPhrasesState } from '../../../../shared/dto';
import type { NeuronpediaPhrasesResult } from '../../../../shared/neuronpedia';
import { proposeFolder } from '../../state/proposed-folder';

export type ImportRequest = Omit<Input<'dataset.import'>, 'jobId'>;
export type TranslateRequest = Omit<Input<'dataset.translate'>, 'jobId'>;
export type NeuronpediaRequest = Omit<Input<'phrases.neuronpedia'>, 'jobId'>;
export type TryRequest = Omit<Input<'translate.run'>, 'jobId'>;

/** The dataset the step holds now (not yet the project's until the user uses it). */
export interface Dataset {
  /** What made it: an import of files, a Neuronpedia phrases file, or a translation of one of them. */
  origin: 'import' | 'phrases' | 'translate';
  /** The file a translation reads: corpus.tsv of an import or translation, or the phrases .jsonl. */
  source: string;
  /** The aligned corpus the analysis reads; null for a phrases file (English only, translate it first). */
  corpus: string | null;
  /** Languages it has, the source language first. */
  languages: string[];
  /** phrases.json (segment -> feature) of a translated phrases file. */
  features: string | null;
  imported: DatasetImportResult | null;
  translated: DatasetTranslateResult | null;
  /** The Neuronpedia extraction that wrote the phrases file, when this step ran it. */
  extracted: NeuronpediaPhrasesResult | null;
}

export function datasetOfImport(result: DatasetImportResult): Dataset {
  return { origin: 'import', source: result.corpus, corpus: result.corpus, languages: result.languages.map((l) => l.code), features: null, imported: result, translated: null, extracted: null };
}

/** A translation keeps what it was made from (an import's report stays beside the translation's). */
export function datasetOfTranslate(result: DatasetTranslateResult, from: Dataset | null): Dataset {
  const kept = result.languagesKept ?? [result.sourceLanguage];
  const languages = [...kept, ...result.languages.map((l) => l.code).filter((c) => !kept.includes(c))];
  return { origin: 'translate', source: result.corpus, corpus: result.corpus, languages, features: result.features, imported: from?.imported ?? null, translated: result, extracted: from?.extracted ?? null };
}

export function datasetOfPhrases(path: string, extracted: NeuronpediaPhrasesResult | null = null): Dataset {
  return { origin: 'phrases', source: path, corpus: null, languages: ['en'], features: null, imported: null, translated: null, extracted };
}

/** The project's languages the dataset lacks, in the project's order. */
export function missingLanguages(selected: readonly string[], dataset: Pick<Dataset, 'languages'> | null): string[] {
  if (!dataset) return [];
  return selected.filter((c) => !dataset.languages.includes(c));
}

/** "en, hi ml" -> ["en", "hi", "ml"]; blank -> null (every language the files hold). */
export function parseLanguageList(text: string): string[] | null {
  const codes = text
    .split(/[\s,;]+/)
    .map((c) => c.trim())
    .filter(Boolean);
  return codes.length ? [...new Set(codes)] : null;
}

/** One line per problem, naming the field: the contract's schema is the rule (the backend checks again). */
function problemsOf(method: 'dataset.import' | 'dataset.translate' | 'phrases.neuronpedia' | 'translate.run', request: unknown, names: Record<string, string>): string[] {
  const parsed = backendContract[method].input.safeParse(request);
  if (parsed.success) return [];
  return parsed.error.issues.slice(0, 8).map((i) => {
    const path = i.path.map(String);
    const field = names[path.join('.')] ?? names[path[0]] ?? (path.join('.') || 'request');
    return `${field}: ${i.message}`;
  });
}

/** The forms as the project keeps them (ProjectPhrasesState). */
export type ImportForm = ProjectPhrasesState['importForm'];

export function importRequestOf(form: ImportForm): { request: ImportRequest; problems: string[] } {
  const problems: string[] = [];
  if (!form.path.trim()) problems.push('Files to import: type the path of a FLORES folder or a .jsonl/.csv/.tsv/.parquet table.');
  if (!form.outDir.trim()) problems.push('Dataset folder: type the folder the imported corpus is written to.');
  const languages = parseLanguageList(form.languages);
  const request: ImportRequest = { path: form.path.trim(), outDir: form.outDir.trim(), split: form.split, ...(languages ? { languages } : {}) };
  if (problems.length) return { request, problems };
  return { request, problems: problemsOf('dataset.import', request, { path: 'Files to import', outDir: 'Dataset folder', languages: 'Languages to import', split: 'Split' }) };
}

/** `phrases.neuronpedia` from a Neuronpedia export folder the user downloaded: the features by
 * index or by a search of their explanations; the backend's defaults for the 80 % rule and window. */
export type NeuronpediaForm = ProjectPhrasesState['neuronpediaForm'];

export function neuronpediaRequestOf(form: NeuronpediaForm): { request: NeuronpediaRequest | null; problems: string[] } {
  const problems: string[] = [];
  if (!form.export.trim()) problems.push('Export folder: type the folder of the Neuronpedia export (v1/<model>/<source>/…).');
  if (!form.source.trim()) problems.push('Neuronpedia source: type the source id, like 20-gemmascope-res-16k.');
  let features: number[] | undefined;
  if (form.by === 'features') {
    const words = form.features.split(/[\s,;]+/).filter(Boolean);
    const bad = words.find((w) => !/^\d{1,10}$/.test(w));
    if (words.length === 0) problems.push('Features: type the feature indices, like 5, 42, 1030.');
    else if (bad !== undefined) problems.push(`Features: "${bad.slice(0, 20)}" is not a feature index (a whole number from 0).`);
    else features = [...new Set(words.map(Number))];
  } else if (!form.search.trim()) problems.push('Search: type words of the explanations to look for.');
  if (!form.tokenizer.trim()) problems.push("Tokenizer folder: type the model folder whose tokenizer.json the export's tokens come from.");
  if (!form.out.trim()) problems.push('Phrases file: type the .jsonl the phrases are written to.');
  else if (!form.out.trim().endsWith('.jsonl')) problems.push('Phrases file: the file written must end in .jsonl.');
  if (problems.length) return { request: null, problems };
  const request: NeuronpediaRequest = {
    export: form.export.trim(),
    source: form.source.trim(),
    ...(form.by === 'features' ? { features } : { search: form.search.trim() }),
    tokenizer: form.tokenizer.trim(),
    out: form.out.trim(),
  };
  const schema = problemsOf('phrases.neuronpedia', request, { export: 'Export folder', source: 'Neuronpedia source', features: 'Features', search: 'Search', tokenizer: 'Tokenizer folder', out: 'Phrases file' });
  return schema.length ? { request: null, problems: schema } : { request, problems: [] };
}

export interface FeatureRow {
  feature: number;
  explanation: string;
  maximum: string;
  records: number;
  passing: number;
  phrases: number;
  dropped: string;
}

/** The extraction's table: per feature its explanation, the maximum the 80 % was taken of, the
 * records at or above it, the phrases kept and what was dropped (by reason). */
export function featureRows(result: NeuronpediaPhrasesResult): FeatureRow[] {
  return result.features.map((f) => {
    const d = f.dropped;
    const dropped = ([
      [d.unmappable, 'with a token outside the tokenizer'],
      [d.empty, 'empty'],
      [d.duplicate, 'repeating a phrase'],
      [d.specialPeak, 'peaking on a special token'],
    ] as [number, string][]).filter(([n]) => n > 0).map(([n, why]) => `${n} ${why}`);
    return {
      feature: f.feature,
      explanation: f.explanations[0] ?? '(none)',
      maximum: f.maximum === null ? 'none' : String(Number(f.maximum.toPrecision(6))),
      records: f.records,
      passing: f.passing,
      phrases: f.phrases,
      dropped: dropped.join('; ') || 'none',
    };
  });
}

/** One target language's opus-mt folder and, for a multi-target model, its language token. */
export type TargetChoice = ProjectPhrasesState['targets'][string];

export function translateRequestOf(
  dataset: Dataset | null,
  languages: readonly string[],
  targets: Readonly<Record<string, TargetChoice>>,
  outDir: string,
  beams: number | null,
): { request: TranslateRequest | null; problems: string[] } {
  if (!dataset) return { request: null, problems: ['Import files or choose a phrases file first: there is nothing to translate.'] };
  const problems: string[] = [];
  if (languages.length === 0) problems.push('Languages to translate: the dataset already has every language of the project.');
  for (const code of languages) if (!targets[code]?.model.trim()) problems.push(`${code}: choose the opus-mt folder that translates into it.`);
  if (!outDir.trim()) problems.push('Translated dataset folder: type the folder the translated corpus is written to.');
  const request: TranslateRequest = {
    source: dataset.source,
    sourceLanguage: dataset.languages[0] ?? 'en',
    targets: languages.map((language) => {
      const token = targets[language]?.targetToken.trim() ?? '';
      return { language, model: targets[language]?.model.trim() ?? '', ...(token ? { targetToken: token } : {}) };
    }),
    outDir: outDir.trim(),
    ...(beams !== null ? { beams } : {}),
  };
  if (problems.length) return { request: null, problems };
  const names: Record<string, string> = { source: 'Source', outDir: 'Translated dataset folder', beams: 'Beams' };
  languages.forEach((code, i) => {
    names[`targets.${i}.model`] = `${code} model folder`;
    names[`targets.${i}.targetToken`] = `${code} target token (like >>cmn_Hans<<)`;
    names[`targets.${i}.language`] = `${code}`;
  });
  const schema = problemsOf('dataset.translate', request, names);
  return schema.length ? { request: null, problems: schema } : { request, problems: [] };
}

/** `translate.run` of one sample text with a target's folder and token, as the translation would
 * (the same beams), to see what a folder and token give before translating everything. */
export function tryRequestOf(code: string, target: TargetChoice | undefined, sample: string, beams: number | null): { request: TryRequest | null; problems: string[] } {
  const problems: string[] = [];
  if (!target?.model.trim()) problems.push(`${code}: choose the opus-mt folder that translates into it.`);
  if (!sample.trim()) problems.push('Sample text: type a sentence to try the model on.');
  if (problems.length) return { request: null, problems };
  const token = target!.targetToken.trim();
  const request: TryRequest = { model: target!.model.trim(), texts: [sample.trim()], ...(token ? { targetToken: token } : {}), ...(beams !== null ? { beams } : {}) };
  const schema = problemsOf('translate.run', request, { model: `${code} model folder`, texts: 'Sample text', targetToken: `${code} target token (like >>cmn_Hans<<)`, beams: 'Beams' });
  return schema.length ? { request: null, problems: schema } : { request, problems: [] };
}

/** The import report's table: one row per imported language, then what was not imported. */
export interface ImportRow {
  code: string;
  label: string;
  read: number;
  kept: number;
  /** Dropped rows, by reason; zero reasons are left out. */
  dropped: string;
}

export function importRows(result: DatasetImportResult): ImportRow[] {
  return result.languages.map((l) => {
    const reasons: [number, string][] = [
      [l.empty, 'empty'],
      [l.duplicate, 'repeating a segment'],
      [l.incomplete, 'segment missing in another language'],
    ];
    const dropped = reasons.filter(([n]) => n > 0).map(([n, why]) => `${n} ${why}`);
    const flattened = l.flattened > 0 ? [`${l.flattened} with tabs or line breaks written as spaces (kept)`] : [];
    return { code: l.code, label: l.label, read: l.read, kept: l.kept, dropped: [...dropped, ...flattened].join('; ') || 'none' };
  });
}

export interface TranslateRow {
  code: string;
  model: string;
  settings: string;
  count: number;
  cached: number;
  empty: number;
  seconds: string;
  /** Against the texts the corpus already had in that language (kept as they were); else none. */
  quality: string;
}

export function translateRows(result: DatasetTranslateResult): TranslateRow[] {
  return result.languages.map((l) => ({
    code: l.code,
    model: l.model,
    settings: [`beams ${l.settings.numBeams}`, `max length ${l.settings.maxLength}`, ...(l.settings.targetToken ? [`token ${l.settings.targetToken}`] : [])].join(', '),
    count: l.count,
    cached: l.cached,
    empty: l.empty,
    seconds: l.seconds.toFixed(1),
    quality: l.quality ? `BLEU ${l.quality.bleu.toFixed(2)}, chrF++ ${l.quality.chrfpp.toFixed(2)}` : 'none (a language added)',
  }));
}

/** The preview's columns: the project's languages the dataset has, in the project's order, then
 * the dataset's others (an import may hold more than the project chose). */
export function previewLanguages(selected: readonly string[], dataset: Pick<Dataset, 'languages'>): string[] {
  return [...selected.filter((c) => dataset.languages.includes(c)), ...dataset.languages.filter((c) => !selected.includes(c))];
}

/** The folder a new dataset is proposed in: `<database folder>/datasets/<project>-<what>-<stamp>`. */
export function proposeDatasetFolder(dbPath: string, projectName: string, what: 'import' | 'translated' | 'phrases', now: Date): string {
  return proposeFolder(dbPath, 'datasets', projectName, what, now);
}
