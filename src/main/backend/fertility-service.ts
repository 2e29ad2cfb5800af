// Orchestrates tokenizer fertility: languages -> aligned UDHR segments -> per-paragraph counts
// (SQLite cache or tokenizer) -> metrics per language. All checks that can fail on user input run
// before anything is written to the store.
import type { FertilityExport, FertilityResult, FertilityRow, FertilitySettings, Language, TokenizerInfo, TokenizerOrigin } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { toCsv } from '../../shared/csv';
import { TIER_COLORS, TIER_LABELS } from '../../shared/tiers';
import { barChartSvg } from '../analysis/bar-chart-svg';
import { reportHtml } from '../analysis/report-html';
import { countCharacters, countWords, FERTILITY_FORMULAS, fertilityMetrics, sumCounts, type TextCounts } from '../analysis/fertility';
import { alignDocuments, corpusInfo, type Alignment } from '../data/alignment';
import { REFERENCE_LANGUAGE } from '../data/languages';
import { documentHash, type LanguageRegistry } from '../data/registry';
import { loadUdhr, type UdhrDocument } from '../data/udhr';
import type { TokenizerHost } from '../io/tokenizer-host';
import { checkOutputFolder, writeOutputFolder } from '../io/output';
import { svgToPng } from '../io/png';
import type { FertilityRepo, ParagraphCounts } from '../store/fertility-repo';
import type { RunsRepo } from '../store/runs-repo';
import { chooseFertilityTokenizer, tokenizerLabel } from './fertility-service-tokenizer';
import type { JobContext } from './handler';
import { throwIfCancelled, yieldToEventLoop } from './jobs';

export const FERTILITY_SETTINGS: FertilitySettings = {
  specialTokens: 'excluded',
  wordSegmentation: 'Intl.Segmenter(word, isWordLike)',
  characterUnit: 'grapheme clusters, whitespace excluded',
};

export const FERTILITY_CSV_COLUMNS = [
  'language', 'name', 'tier', 'script', 'segments', 'words', 'characters', 'tokens',
  'tokens_per_word', 'tokens_per_char', 'tokens_per_segment', 'ratio_to_en',
] as const satisfies readonly (keyof FertilityRow)[];

/** The CSV file's columns: every row also names the tokenizer its figures are for. */
export const FERTILITY_CSV_FILE_COLUMNS = [...FERTILITY_CSV_COLUMNS, 'tokenizer_origin', 'tokenizer_path', 'tokenizer_sha256'] as const;

export interface FertilityRequest {
  languages: string[];
  /** A tokenizer folder or tokenizer.json named on purpose. */
  tokenizer?: string;
  /** A model folder: its own tokenizer.json is measured. Neither: the bundled Gemma tokenizer. */
  model?: string;
}

interface Prepared {
  codes: string[];
  languages: Language[];
  /** The tokenizer as the user named it (undefined: the bundled one). */
  path: string | undefined;
  origin: TokenizerOrigin;
  info: TokenizerInfo;
}

export class FertilityService {
  constructor(
    private readonly registry: LanguageRegistry,
    private readonly cache: FertilityRepo,
    private readonly runs: RunsRepo,
    private readonly tokenizers: TokenizerHost,
  ) {}

  async run(request: FertilityRequest, ctx: JobContext): Promise<FertilityResult> {
    return this.compute(await this.prepare(request, ctx), ctx);
  }

  async export(request: FertilityRequest & { outDir: string }, ctx: JobContext): Promise<FertilityExport> {
    // Everything a user can get wrong is checked before anything is computed or cached.
    const prepared = await this.prepare(request, ctx);
    const outDir = checkOutputFolder(request.outDir);
    const result = await this.compute(prepared, ctx);
    const files = writeFertilityFiles(result, outDir);
    return { files, result };
  }

  /** Resolves the languages and reads the tokenizer files (in the tokenizer worker): the checks
   * that fail on bad input. */
  private async prepare(request: FertilityRequest, ctx: JobContext): Promise<Prepared> {
    // English is the reference every ratio is taken against: always measured, listed first.
    // Codes in any spelling ("EN", "zh_Hans") become registry codes first.
    const codes = [REFERENCE_LANGUAGE, ...this.registry.canonicalCodes(request.languages).filter((c) => c !== REFERENCE_LANGUAGE)];
    const languages = this.registry.resolve(codes);
    const { path, origin } = chooseFertilityTokenizer(request);
    return { codes, languages, path, origin, info: await this.tokenizers.inspect(path, ctx.signal) };
  }

  private async compute({ codes, languages, path, origin, info }: Prepared, ctx: JobContext): Promise<FertilityResult> {
    const documents: Record<string, UdhrDocument> = {};
    for (const language of languages) documents[language.code] = loadUdhr(language.corpusCode);
    const alignment = alignDocuments(documents);
    if (alignment.segments.length === 0) {
      throw new ApiError('LANGUAGE_NOT_IN_CORPUS', 'the chosen languages share no aligned UDHR segment');
    }

    let loaded = false;
    /** Token counts of a document's paragraphs, from the tokenizer worker. */
    const countTokens = async (doc: UdhrDocument): Promise<number[]> => {
      if (!loaded) ctx.progress('loading tokenizer', 0, 1);
      const texts = doc.sections.flatMap((s) => s.paragraphs);
      const encoded = await this.tokenizers.encode(path, texts, false, ctx.signal);
      if (!loaded) ctx.progress('loading tokenizer', 1, 1);
      loaded = true;
      // The cache key is the sha256 read in prepare: the counts must come from those very files.
      if (encoded.info.sha256 !== info.sha256) {
        throw new ApiError('TOKENIZER_UNREADABLE', `${info.path} changed while the job ran; run it again`, { file: info.path });
      }
      return encoded.ids.map((ids) => ids.length);
    };

    const fromCache: string[] = [];
    const computed: string[] = [];
    const countsByLanguage = new Map<string, Map<string, TextCounts>>();
    for (const [i, language] of languages.entries()) {
      throwIfCancelled(ctx.signal);
      const doc = documents[language.code];
      const key = { tokenizerSha256: info.sha256, corpusCode: language.corpusCode, textSha256: documentHash(doc) };
      let counts = this.cache.load(key);
      if (counts) {
        fromCache.push(language.code);
      } else {
        counts = await countDocument(doc, language.code, await countTokens(doc), ctx);
        this.cache.save(key, counts);
        computed.push(language.code);
      }
      countsByLanguage.set(language.code, new Map(counts.map((c) => [`${c.section_key}#${c.paragraph}`, c])));
      ctx.progress('tokenizing', i + 1, languages.length);
      await yieldToEventLoop();
    }

    const rows = buildRows(languages, alignment, documents, countsByLanguage);
    const result: FertilityResult = {
      rows,
      tokenizer: info,
      tokenizerOrigin: origin,
      tokenizerLabel: tokenizerLabel(info, origin),
      corpus: corpusInfo(alignment),
      fromCache,
      computed,
      settings: FERTILITY_SETTINGS,
      formulas: FERTILITY_FORMULAS,
      createdAt: new Date().toISOString(),
    };
    this.runs.record('fertility', { languages: codes, tokenizer: info.sha256, tokenizerOrigin: origin, ...FERTILITY_SETTINGS }, result);
    return result;
  }
}

/** `tokens`: each paragraph's token count, in document order. */
async function countDocument(doc: UdhrDocument, locale: string, tokens: readonly number[], ctx: JobContext): Promise<ParagraphCounts[]> {
  const out: ParagraphCounts[] = [];
  let n = 0;
  for (const section of doc.sections) {
    for (const [i, text] of section.paragraphs.entries()) {
      out.push({
        section_key: section.key,
        paragraph: i + 1,
        tokens: tokens[n],
        words: countWords(text, locale),
        characters: countCharacters(text),
      });
      if (++n % 16 === 0) {
        await yieldToEventLoop();
        throwIfCancelled(ctx.signal);
      }
    }
  }
  return out;
}

function buildRows(
  languages: Language[],
  alignment: Alignment,
  documents: Record<string, UdhrDocument>,
  countsByLanguage: Map<string, Map<string, TextCounts>>,
): FertilityRow[] {
  const perSegment = (code: string): TextCounts[] => {
    const counts = countsByLanguage.get(code)!;
    const doc = documents[code];
    return alignment.segments.map((segment) => {
      if (segment.paragraph !== null) return counts.get(`${segment.section}#${segment.paragraph}`)!;
      const section = doc.sections.find((s) => s.key === segment.section)!;
      return sumCounts(section.paragraphs.map((_, i) => counts.get(`${segment.section}#${i + 1}`)!));
    });
  };
  const englishTokens = sumCounts(perSegment(REFERENCE_LANGUAGE)).tokens;
  return languages.map((language) => ({
    language: language.code,
    name: language.name,
    tier: language.tier,
    script: language.script,
    ...fertilityMetrics(perSegment(language.code), englishTokens),
  }));
}

export function fertilityChartSvg(result: FertilityResult): string {
  const tiers = [...new Set(result.rows.map((r) => r.tier))];
  return barChartSvg(
    result.rows.map((r) => ({ label: r.language, value: r.ratio_to_en, color: TIER_COLORS[r.tier] })),
    {
      title: `Tokenizer fertility relative to English (${result.corpus.alignedSegments} aligned UDHR segments)`,
      yLabel: 'tokens / English tokens',
      referenceLine: { value: 1, label: 'parity with English' },
      legend: tiers.map((t) => ({ label: TIER_LABELS[t], color: TIER_COLORS[t] })),
    },
  );
}

export function writeFertilityFiles(result: FertilityResult, outDir: string): string[] {
  const svg = fertilityChartSvg(result);
  const outputs: [string, string | Buffer][] = [
    ['fertility.csv', toCsv(fertilityCsvRows(result), FERTILITY_CSV_FILE_COLUMNS)],
    ['fertility.svg', svg],
    ['fertility.png', svgToPng(svg)],
    ['fertility.json', JSON.stringify(result, null, 2) + '\n'],
    ['report.html', fertilityReportHtml(result, svg)],
  ];
  return writeOutputFolder(outDir, 'fertility report', outputs.map(([name, content]) => ({ name, content })));
}

/** The rows with the tokenizer named on each, so a CSV row cut out of its file still says which
 * tokenizer its figures are for. */
export function fertilityCsvRows(result: FertilityResult) {
  return result.rows.map((r) => ({
    ...r,
    tokenizer_origin: result.tokenizerOrigin,
    tokenizer_path: result.tokenizer.path,
    tokenizer_sha256: result.tokenizer.sha256,
  }));
}

export function fertilityReportHtml(result: FertilityResult, svg: string): string {
  return reportHtml(
    'LinguaScope — tokenizer fertility',
    {
      created: result.createdAt,
      tokenizer: `${result.tokenizerLabel}: ${result.tokenizer.modelType}, vocab ${result.tokenizer.vocabSize}, sha256 ${result.tokenizer.sha256}`,
      corpus: `UDHR (udhr ${result.corpus.version}), ${result.corpus.alignedSegments} aligned segments`,
      'kept whole': result.corpus.mergedArticles.join(', ') || 'none',
    },
    [
      {
        heading: 'Tokens per language, relative to English',
        paragraphs: [
          'The same declaration text in every language: a ratio above 1 means the tokenizer spends more tokens than on English for the same content, ' +
            'so the model sees that language in smaller pieces and fits less of it in its context.',
        ],
        svg,
        table: {
          columns: [...FERTILITY_CSV_COLUMNS],
          rows: result.rows.map((r) => FERTILITY_CSV_COLUMNS.map((c) => r[c])),
        },
      },
      { heading: 'Formulas', definitions: result.formulas },
    ],
  );
}
