// dataset.translate: an aligned dataset made by translating source-language texts with the user's
// opus-mt folders, one per target language. The source is a corpus file (its rows in the source
// language) or a phrases JSONL from `phrases neuronpedia` (English phrases per SAE feature; each
// becomes segment `f{feature}.{n}`, and phrases.json beside the corpus maps segments to features and
// their Neuronpedia provenance, so an analysis can measure each feature on its own phrases).
// Output: a folder of ours with corpus.tsv (source + targets, read by analysis and fine-tune),
// translation.json (per language: the model, its fingerprint, settings, cached count) and, with
// references, nothing else is guessed: quality figures come from `translate --references`.
import { basename, join } from 'node:path';
import type { ParsedInput } from '../../shared/contract';
import type { DatasetTranslateResult } from '../../shared/dataset';
import { ApiError } from '../../shared/errors';
import type { PhraseLine } from '../../shared/neuronpedia';
import { importParallel } from '../data/parallel/import';
import { bleuTokenizerFor, corpusBleu, corpusChrf } from '../eval/mt-metrics';
import type { LanguageRegistry } from '../data/registry';
import { CORPUS_CODES, readRegularFile } from '../io/input-file';
import { checkOutputFolder, writeOutputFolder } from '../io/output';
import type { JobContext } from './handler';
import type { TranslateService } from './translate-service';

export type DatasetTranslateRequest = ParsedInput<'dataset.translate'>;

const MAX_PHRASES_BYTES = 64 * 2 ** 20;
const PREVIEW = 20;

interface SourceRow {
  segment: string;
  text: string;
  feature: number | null;
  provenance: PhraseLine['provenance'] | null;
}

function readPhrases(file: string): SourceRow[] {
  const bytes = readRegularFile(file, CORPUS_CODES, MAX_PHRASES_BYTES, 'phrases file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError('INVALID_ARGUMENT', `${basename(file)} is not valid UTF-8`, { file });
  }
  const rows: SourceRow[] = [];
  const perFeature = new Map<number, number>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: Partial<PhraseLine>;
    try {
      value = JSON.parse(line) as Partial<PhraseLine>;
    } catch {
      throw new ApiError('INVALID_ARGUMENT', `${basename(file)} line ${i + 1} is not valid JSON`, { file, line: i + 1 });
    }
    if (typeof value !== 'object' || value === null || typeof value.text !== 'string' || !Number.isSafeInteger(value.feature) || (value.feature as number) < 0 || value.text.trim() === '') {
      throw new ApiError('INVALID_ARGUMENT', `${basename(file)} line ${i + 1} is not a phrase line ({"feature", "language", "text", "provenance"} as \`phrases neuronpedia\` writes)`, { file, line: i + 1 });
    }
    if (value.language !== undefined && value.language !== 'en') {
      throw new ApiError('INVALID_ARGUMENT', `${basename(file)} line ${i + 1} is a ${String(value.language).slice(0, 16)} phrase; the phrases to translate are English`, { file, line: i + 1 });
    }
    const feature = value.feature as number;
    const n = (perFeature.get(feature) ?? 0) + 1;
    perFeature.set(feature, n);
    rows.push({ segment: `f${feature}.${n}`, text: value.text.replace(/[\t\r\n]+/g, ' ').trim(), feature, provenance: value.provenance ?? null });
  });
  if (rows.length === 0) throw new ApiError('INVALID_ARGUMENT', `${basename(file)} holds no phrase`, { file });
  return rows;
}

export class DatasetTranslateService {
  constructor(
    private readonly registry: LanguageRegistry,
    private readonly translator: TranslateService,
  ) {}

  async run(request: DatasetTranslateRequest, ctx: JobContext): Promise<DatasetTranslateResult> {
    const target = checkOutputFolder(request.outDir);
    const sourceLanguage = request.sourceLanguage ?? 'en';
    const codes = [sourceLanguage, ...request.targets.map((t) => t.language)];
    this.registry.resolve(codes);
    const dup = codes.find((c, i) => codes.indexOf(c) !== i);
    if (dup) throw new ApiError('INVALID_ARGUMENT', `language ${dup} is given twice (the source and each target once)`, { language: dup });

    // A corpus file keeps every registered language it already has (segments complete in all of
    // them); the targets are added. A phrases file holds English only.
    let kept: Record<string, string>[] = [];
    let rows: SourceRow[];
    let present: string[] = [sourceLanguage];
    if (request.source.endsWith('.jsonl')) {
      rows = readPhrases(request.source);
    } else {
      const corpus = await importParallel(request.source, this.registry.list());
      present = corpus.languages.map((l) => l.code);
      if (!present.includes(sourceLanguage)) {
        throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `${basename(request.source)} has no ${sourceLanguage} text to translate from (it has ${present.join(', ')})`, { file: request.source, language: sourceLanguage });
      }
      present = [sourceLanguage, ...present.filter((c) => c !== sourceLanguage)];
      rows = corpus.rows.map((r) => ({ segment: r.segment, text: r.texts[sourceLanguage], feature: null, provenance: null }));
      kept = corpus.rows.map((r) => r.texts);
    }
    const existing = new Map(rows.map((r, i) => [r.segment, kept[i] ?? { [sourceLanguage]: r.text }]));
    const texts = rows.map((r) => r.text);

    const translations: Record<string, string[]> = {};
    const languages: DatasetTranslateResult['languages'] = [];
    for (const [i, t] of request.targets.entries()) {
      ctx.progress(`translating into ${t.language} (${i + 1} of ${request.targets.length})`, i, request.targets.length);
      const done = await this.translator.translateTexts({ model: t.model, targetToken: t.targetToken, beams: request.beams, batch: request.batch }, texts, ctx);
      const out = done.lines.map((l) => l.text.replace(/[\t\r\n]+/g, ' ').trim());
      // A language the corpus already has keeps its own (human) texts; the translations are scored
      // against them instead, so the model's quality is seen before it is trusted for others.
      const references = present.includes(t.language) ? rows.map((r) => existing.get(r.segment)![t.language]) : null;
      const quality = references
        ? { bleu: corpusBleu(out, references, bleuTokenizerFor(t.language)).score, chrfpp: corpusChrf(out, references).score }
        : null;
      if (!references) translations[t.language] = out;
      const empty = out.filter((x) => x === '').length;
      languages.push({ code: t.language, model: t.model, fingerprint: done.fingerprint, settings: done.settings, count: texts.length, cached: done.cached, empty, seconds: done.seconds, quality });
    }
    // A segment whose translation came out empty (a model emitting only EOS) cannot be aligned: left
    // out, and counted per language above.
    const added = request.targets.filter((t) => translations[t.language] !== undefined);
    const complete = rows.filter((_, i) => added.every((t) => translations[t.language][i] !== ''));
    const index = new Map(rows.map((r, i) => [r.segment, i]));
    const textsOf = (r: SourceRow): Record<string, string> => ({
      ...Object.fromEntries(present.map((c) => [c, existing.get(r.segment)![c]])),
      ...Object.fromEntries(added.map((t) => [t.language, translations[t.language][index.get(r.segment)!]])),
    });
    const lines = ['segment\tlanguage\ttext'];
    for (const r of complete) for (const [code, text] of Object.entries(textsOf(r))) lines.push(`${r.segment}\t${code}\t${text}`);
    const features = rows.some((r) => r.feature !== null)
      ? complete.map((r) => ({ segment: r.segment, feature: r.feature!, provenance: r.provenance }))
      : null;
    const result: DatasetTranslateResult = {
      source: request.source,
      sourceLanguage,
      corpus: join(target, 'corpus.tsv'),
      report: join(target, 'translation.json'),
      languagesKept: present,
      segments: { read: rows.length, kept: complete.length },
      languages,
      features: features ? join(target, 'phrases.json') : null,
      preview: complete.slice(0, PREVIEW).map((r) => ({ segment: r.segment, texts: textsOf(r) })),
    };
    ctx.progress('writing', request.targets.length, request.targets.length);
    writeOutputFolder(target, 'translated dataset', [
      { name: 'corpus.tsv', content: `${lines.join('\n')}\n` },
      { name: 'translation.json', content: `${JSON.stringify({ ...result, preview: undefined }, null, 2)}\n` },
      ...(features ? [{ name: 'phrases.json', content: `${JSON.stringify(features, null, 1)}\n` }] : []),
    ]);
    return result;
  }
}
