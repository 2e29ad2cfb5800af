// The disparity analysis end to end: languages → aligned corpus → tokens → (cache | fused model +
// SAE extraction, batch by batch, each batch committed whole) → every summary read back from the
// cache → figures → files. All checks on user input run before anything is computed or cached.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { AnalysisExport, DisparitySettings, DisparitySummary, Language } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { analyzeDisparity, DEFAULT_DISPARITY } from '../analysis/disparity';
import { disparityReportFiles } from '../analysis/disparity-report';
import { planFeatures, readFeaturePhrases, type FeaturePlan } from '../analysis/feature-phrases';
import { perFeatureFigures, perFeatureFormulas } from '../analysis/per-feature';
import { checkGate, precisionGate, PRECISION_FORMULAS } from '../analysis/precision-gate';
import { alignDocuments } from '../data/alignment';
import { readCorpusFile } from '../data/corpus-file';
import { REFERENCE_LANGUAGE } from '../data/languages';
import type { LanguageRegistry } from '../data/registry';
import { loadUdhr } from '../data/udhr';
import type { RuntimeHost } from '../engine/runtime-host';
import { checkOutputFolder, writeOutputFolder } from '../io/output';
import type { TokenizerHost } from '../io/tokenizer-host';
import { adapterInfo, openPeftAdapter, type PeftAdapter } from '../io/peft-adapter';
import { openModelFolder, type ModelFolder } from '../models/model';
import { paddedLength, SaeExtractor, type ExtractionSettings, type PhraseSummary } from '../sae/extract';
import { checkSaeFitsModel, findSaes, loadSae, saeInfo, saeLayer, type SaeSpec } from '../sae/sae';
import { TopFeatureSums } from '../analysis/top-features';
import { cacheKey, cacheRow, exactValues, featureValue, SaeCacheRepo, type CachedSummary, type ExactValues } from '../store/sae-cache-repo';
import type { FileHashRepo } from '../store/file-hash-repo';
import type { RunsRepo } from '../store/runs-repo';
import type { JobContext } from './handler';
import { digest, hashFiles, modelFingerprint, modelFingerprintFiles } from './fingerprints';
import { throwIfCancelled, yieldToEventLoop } from './jobs';

export interface AnalysisRequest {
  model: string;
  /** A folder holding SAEs (one is chosen per layer), or explicit SAE paths. */
  saes: string | string[];
  languages: string[];
  /** 'udhr' (bundled) or a .tsv file: segment, language, text. */
  corpus?: string;
  /** Use only the first N aligned segments. */
  limit?: number;
  settings?: Partial<DisparitySettings>;
  /** A PEFT LoRA adapter folder applied to the model. */
  adapter?: string;
  /** Only these segments (by key), e.g. a fine-tune's held-out ones; before `limit`. */
  segments?: string[];
  /** A phrases.json (segment → feature and Neuronpedia source, as `dataset translate` writes beside
   * corpus.tsv): each feature is also measured on its own segments. Only when given: one lying
   * beside the corpus is not read unasked (a fine-tune reads the same corpus without it). */
  phrases?: string;
}

export interface Phrase {
  segment: number;
  language: number;
  text: string;
  tokens: number[];
}

/** Token budget of one batch (B x T after padding) and its phrase count. */
const BATCH_TOKENS = 2048;
const BATCH_PHRASES = 16;

/** The files an SAE reads (Gemma Scope: the npz; SAELens: the weights; ours: the file). */
function saeFiles(spec: SaeSpec): string[] {
  return [...new Set(Object.values(spec.tensors).flatMap((t) => (t ? [t.file] : [])))];
}

/** One SAE per layer: explicit paths, or under a folder the one whose average L0 is nearest 100
 * (Gemma Scope ships several sparsities per layer; 100 is near its canonical choice). */
export async function chooseSaes(saes: string | string[]): Promise<SaeSpec[]> {
  const specs = Array.isArray(saes) ? await Promise.all(saes.map((p) => loadSae(p))) : await findSaes(saes);
  const byHook = new Map<string, SaeSpec>();
  for (const s of specs) {
    if (!s.hookName) throw new ApiError('WEIGHTS_INVALID', `${s.source}: no hook point is recorded (no cfg metadata.hook_name and no layer_L in the path)`, { file: s.source });
    const have = byHook.get(s.hookName);
    if (!have) byHook.set(s.hookName, s);
    else if (Array.isArray(saes)) throw new ApiError('INVALID_ARGUMENT', `two SAEs read ${s.hookName}: ${have.source} and ${s.source}; choose one per layer`);
    else if (Math.abs((s.averageL0 ?? 100) - 100) < Math.abs((have.averageL0 ?? 100) - 100)) byHook.set(s.hookName, s);
  }
  return [...byHook.values()].sort((a, b) => (saeLayer(a) ?? 0) - (saeLayer(b) ?? 0));
}

// The corpus file reader lives in data/corpus-file (streamed, bounded); re-exported for callers.
export { readCorpusFile } from '../data/corpus-file';

export class AnalysisService {
  constructor(
    private readonly registry: LanguageRegistry,
    private readonly cache: SaeCacheRepo,
    private readonly runs: RunsRepo,
    private readonly runtime: RuntimeHost,
    private readonly fileHashes: FileHashRepo,
    private readonly tokenizers: TokenizerHost,
    /** Where a fast run keeps its int8 weights between runs (engine/quant-cache.ts); none: no cache. */
    private readonly quantCacheDir?: string,
  ) {}

  /** The extractor's settings for a prepared run. A fast run's int8 weights are cached under the
   * model's content fingerprint (the adapter's files included), so a changed file is a new entry. */
  private async extraction(p: Prepared, ctx: JobContext): Promise<ExtractionSettings> {
    const base = { includeBos: p.settings.includeBos, precision: p.settings.precision };
    if (p.settings.precision !== 'fast' || !this.quantCacheDir) return base;
    const fp = await this.fingerprints(p.folder, p.saes, ctx, p.adapter);
    return { ...base, quantize: { cache: { dir: this.quantCacheDir, key: fp.model } } };
  }

  /** Content fingerprints of the model (config.json, tokenizer.json and every weight file) and of
   * each SAE (its settings and shapes, and its files' bytes): the cache keys' model and SAE parts.
   * Whole-file sha256, remembered per file identity, so only new or rewritten files are read. */
  private async fingerprints(folder: ModelFolder, saes: readonly SaeSpec[], ctx: JobContext, adapter?: PeftAdapter): Promise<{ model: string; saes: string[] }> {
    const perSae = saes.map(saeFiles);
    const of = await hashFiles(this.fileHashes, [...modelFingerprintFiles(folder), ...perSae.flat()], ctx);
    return {
      model: modelFingerprint(folder, of, adapter),
      saes: saes.map((s, i) => digest([s.fingerprint, ...perSae[i].map((f) => of.get(f)!)])),
    };
  }

  async run(request: AnalysisRequest, ctx: JobContext): Promise<DisparitySummary> {
    return this.compute(await this.prepare(request, ctx), ctx);
  }

  async export(request: AnalysisRequest & { outDir: string }, ctx: JobContext): Promise<AnalysisExport> {
    const prepared = await this.prepare(request, ctx);
    const outDir = checkOutputFolder(request.outDir);
    const summary = await this.compute(prepared, ctx);
    ctx.progress('writing report', 0, 1);
    const files = writeOutputFolder(outDir, 'analysis report', disparityReportFiles(summary));
    ctx.progress('writing report', 1, 1);
    return { outDir, files, summary };
  }

  /** Languages, model, SAEs and the tokenized aligned segments an analysis (or a fine-tune) reads,
   * every check on user input done. */
  /** The aligned segments of a corpus ('udhr' or a corpus file) in these languages, English
   * first: texts by language code, and (a file's) segments that lack one of the languages. */
  segmentTexts(corpus: string | undefined, languages: readonly Language[]): { segments: { key: string; text: Record<string, string> }[]; incomplete: string[] } {
    const codes = languages.map((l) => l.code);
    const source = corpus ?? 'udhr';
    if (source === 'udhr') {
      const docs = Object.fromEntries(languages.map((l) => [l.code, loadUdhr(l.corpusCode)]));
      const segments = alignDocuments(docs).segments.map((s) => ({ key: s.key, text: Object.fromEntries(codes.map((c) => [c, s.paragraphs[c].join('\n')])) }));
      if (segments.length === 0) throw new ApiError('LANGUAGE_NOT_IN_CORPUS', 'the chosen languages share no aligned UDHR segment');
      return { segments, incomplete: [] };
    }
    // Registered languages, and any language of the UDHR collection (by BCP 47 tag or corpus code).
    const known = new Set([...this.registry.list().map((l) => l.code), ...this.registry.corpusLanguages().flatMap((l) => [l.bcp47, l.corpusCode])]);
    return readCorpusFile(source, codes, (c) => known.has(c));
  }

  /** segmentTexts for language codes in any spelling (English added first). */
  segmentTextsOf(corpus: string | undefined, codes: readonly string[]) {
    const chosen = this.registry.canonicalCodes([...codes]);
    return this.segmentTexts(corpus, this.registry.resolve([REFERENCE_LANGUAGE, ...chosen.filter((c) => c !== REFERENCE_LANGUAGE)]));
  }

  async prepare(request: AnalysisRequest, ctx: JobContext) {
    const settings: DisparitySettings = { ...DEFAULT_DISPARITY, ...request.settings };
    // Codes in any spelling ("EN", "zh_hans") name the registered language; unknown ones fail together.
    const chosen = this.registry.canonicalCodes(request.languages);
    const codes = [REFERENCE_LANGUAGE, ...chosen.filter((c) => c !== REFERENCE_LANGUAGE)];
    const languages: Language[] = this.registry.resolve(codes);
    const folder = openModelFolder(request.model);
    // Checked before any work: an adapter that does not fit the model is refused here.
    const adapter = request.adapter !== undefined ? openPeftAdapter(request.adapter, folder.config) : undefined;
    if (!folder.info.tokenizer) throw new ApiError('TOKENIZER_NOT_FOUND', `${folder.path} has no tokenizer.json; the analysis tokenizes the corpus with the model's tokenizer`, { file: folder.path });
    const saes = await chooseSaes(request.saes);
    for (const s of saes) checkSaeFitsModel(s, folder.info);
    const source = request.corpus ?? 'udhr';
    const read = this.segmentTexts(source, languages);
    let segments = read.segments;
    const incomplete = read.incomplete;
    // Read before any tokenizing, so a damaged phrases.json fails fast; planned once the kept
    // segments are known.
    const featurePhrases = request.phrases !== undefined ? readFeaturePhrases(request.phrases) : null;
    const corpusKeys = new Set([...segments.map((g) => g.key), ...incomplete]);
    if (request.segments !== undefined) {
      const wanted = new Set(request.segments);
      segments = segments.filter((s) => wanted.has(s.key));
      if (segments.length === 0) throw new ApiError('INVALID_ARGUMENT', `none of the ${wanted.size} segment(s) asked for is in the corpus for these languages`, { setting: 'segments' });
    }
    const max = folder.config.maxPositions;
    // A user's corpus file with a phrase the model cannot take is an error; the bundled corpus's
    // segments that exceed the context (long merged sections, byte-level tokenizers) are skipped
    // and listed in the summary. Texts go to the tokenizer worker a chunk of segments at a time,
    // so a --limit run does not tokenize the whole corpus.
    const skipped: string[] = [];
    const kept: { key: string; text: Record<string, string>; tokens: number[][] }[] = [];
    const chunk = Math.max(16, request.limit ?? 0);
    let encoded: number[][] = [];
    for (const [s, seg] of segments.entries()) {
      if (request.limit !== undefined && kept.length >= request.limit) break;
      if (s % chunk === 0) {
        const texts = segments.slice(s, s + chunk).flatMap((g) => languages.map((lang) => g.text[lang.code]));
        ctx.progress('tokenizing', s, segments.length);
        encoded = (await this.tokenizers.encode(folder.path, texts, true, ctx.signal)).ids;
      }
      const at = (s % chunk) * languages.length;
      const tokens = encoded.slice(at, at + languages.length);
      // Where a phrase came from: its file row (a user's corpus) or its UDHR segment.
      const rows = (seg as { rows?: Record<string, number> }).rows;
      const where = (li: number) => (rows ? ` (${basename(source)} row ${rows[languages[li].code]})` : '');
      const vocab = folder.config.vocabSize;
      tokens.forEach((ids, li) => {
        const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
        if (bad !== undefined) {
          throw new ApiError('INVALID_ARGUMENT', `segment "${seg.key}" in ${languages[li].code}${where(li)}: the tokenizer gave token id ${bad}, outside the model's vocabulary (0..${vocab - 1}); tokenizer.json does not belong to this model`, { segment: seg.key, language: languages[li].code, ...(rows ? { row: rows[languages[li].code] } : {}) });
        }
      });
      const over = tokens.findIndex((t) => t.length > max);
      if (over >= 0) {
        const message = `segment "${seg.key}" in ${languages[over].code} has ${tokens[over].length} tokens; the model's context is ${max}${where(over)}`;
        if (source !== 'udhr') throw new ApiError('INVALID_ARGUMENT', message, { segment: seg.key, language: languages[over].code, limit: max, ...(rows ? { row: rows[languages[over].code] } : {}) });
        skipped.push(seg.key);
        continue;
      }
      kept.push({ ...seg, tokens });
    }
    if (kept.length === 0) throw new ApiError('INVALID_ARGUMENT', `no segment fits the model's context of ${max} tokens in every language`, { limit: max });
    const phrases: Phrase[] = [];
    kept.forEach((seg, si) => languages.forEach((lang, li) => phrases.push({ segment: si, language: li, text: seg.text[lang.code], tokens: seg.tokens[li] })));
    const perFeature = featurePhrases
      ? {
          file: request.phrases!,
          phrases: featurePhrases.length,
          ...planFeatures(request.phrases!, featurePhrases, corpusKeys, kept.map((k) => k.key), saes.map((sae) => ({ path: sae.source, layer: saeLayer(sae), hook: sae.hookName, dSae: sae.dSae, averageL0: sae.averageL0 }))),
        }
      : null;
    return { settings, languages, folder, adapter, saes, segments: kept.map(({ key, text }) => ({ key, text })), phrases, source, skipped, incomplete, perFeature };
  }

  private async compute(p: Prepared, ctx: JobContext): Promise<DisparitySummary> {
    const started = performance.now();
    const { settings, languages, folder, saes, segments, phrases } = p;
    // Adapted and base results never share cache rows: the adapter's files' sha256 is part of the
    // model's fingerprint (the base's alone when no adapter is applied, so existing rows stay valid).
    const fp = await this.fingerprints(folder, saes, ctx, p.adapter);
    const modelFp = fp.model;
    // Version 3: phrases run padded to `paddedLength` (version-2 rows differ from them by 1e-7).
    // Fast-precision rows are other numbers than float32 ones: their keys differ (exact keys unchanged).
    const extractionFp = JSON.stringify({ includeBos: settings.includeBos, keepFeatures: settings.keepFeatures, version: 3, ...(settings.precision === 'fast' ? { precision: 'fast' } : {}) });
    // A row's reference sums depend on the English version of its segment: its key includes it.
    const enTokens = (segment: number) => phrases[segment * languages.length].tokens;
    const keys = phrases.map((ph) =>
      saes.map((_, l) => cacheKey({ model: modelFp, sae: fp.saes[l], settings: extractionFp, tokens: ph.tokens, reference: ph.language === 0 ? undefined : enTokens(ph.segment) })),
    );
    const cached = this.cache.has(keys.flat());
    const missing = phrases.map((_, i) => i).filter((i) => keys[i].some((k) => !cached.has(k)));
    const ranking = this.ranking(p, keys);
    // The per-feature figures' exact values are taken from phrases extracted now as they pass, and
    // stored once their rows are; rows from earlier runs lacking them are run again below.
    const wanted = p.perFeature ? featureWants(p.perFeature.plans, languages.length) : null;
    const exactNow: { key: string; exact: ExactValues }[] = [];
    const onPhrase = (i: number, out: PhraseSummary[]) => {
      ranking?.add?.(i, out);
      for (const w of wanted?.get(i) ?? []) exactNow.push({ key: keys[i][w.layer], exact: exactValues(out[w.layer], w.features) });
    };
    // A fast run first passes its fidelity gate (analysis/precision-gate.ts), or stops with its figures.
    const gate = settings.precision === 'fast' ? await this.precisionGate(p, ctx) : null;
    if (missing.length) await this.extract(p, keys, missing, ctx, onPhrase);
    if (exactNow.length) this.cache.putExact(exactNow);
    throwIfCancelled(ctx.signal);

    // Every figure is computed from what the cache holds.
    const reader = () => {
      const rows = new Map<string, CachedSummary>();
      return (L: number, s: number, l: number): CachedSummary => {
        const key = keys[s * languages.length + L][l];
        let row = rows.get(key);
        if (!row) {
          row = this.cache.get(key) ?? undefined;
          if (!row) throw new ApiError('STORE_ERROR', 'a cached activation summary disappeared during the analysis; run it again');
          rows.set(key, row);
        }
        return row;
      };
    };
    const exact = ranking ? await this.rankTopFeatures(p, keys, ranking, ctx) : { sets: undefined, recomputed: 0 };
    throwIfCancelled(ctx.signal);
    const perFeatureRecomputed = wanted ? await this.fillExact(p, keys, wanted, ctx) : 0;
    throwIfCancelled(ctx.signal);
    ctx.progress('analysing', 0, 1);
    const summary = reader();
    const layers = saes.map((s) => saeLayer(s)!);
    const result = analyzeDisparity({ languages, layers, dSae: saes.map((s) => s.dSae), segments, summary, settings, topFeatureSets: exact.sets });
    const perFeature = p.perFeature
      ? perFeatureFigures(p.perFeature.plans, languages, (L, s, l, f) => {
          const v = featureValue(summary(L, s, l), f);
          if (!v.exact) throw new ApiError('STORE_ERROR', 'a cached exact feature value disappeared during the analysis; run it again');
          return settings.reduction === 'mean' ? v.mean[0] : v.max[0];
        })
      : null;
    ctx.progress('analysing', 1, 1);
    const allKeys = keys.flat();
    const saeInfos = saes.map(saeInfo);
    const tokens: Record<string, number> = {};
    for (const ph of phrases) tokens[languages[ph.language].code] = (tokens[languages[ph.language].code] ?? 0) + ph.tokens.length;
    const full: DisparitySummary = {
      ...result,
      ...(p.perFeature ? { formulas: { ...result.formulas, ...perFeatureFormulas(settings) } } : {}),
      ...(gate ? { formulas: { ...result.formulas, ...(p.perFeature ? perFeatureFormulas(settings) : {}), ...PRECISION_FORMULAS }, precision_gate: gate } : {}),
      model: { ...folder.info, fingerprint: modelFp },
      ...(p.adapter ? { adapter: adapterInfo(p.adapter) } : {}),
      saes: saeInfos,
      corpus: { source: p.source, segments: segments.length, tokens, skipped: p.skipped, incomplete: p.incomplete },
      cache: {
        phrases_computed: missing.length,
        phrases_cached: phrases.length - missing.length,
        phrases_recomputed_for_top_features: exact.recomputed,
        ...(p.perFeature ? { phrases_recomputed_for_per_feature: perFeatureRecomputed } : {}),
        bytes_per_phrase: Math.round(this.cache.bytes(allKeys) / phrases.length),
        seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      },
      ...(p.perFeature && perFeature
        ? { per_feature: perFeature, per_feature_phrases: { file: p.perFeature.file, phrases: p.perFeature.phrases, features: perFeature.length, warnings: p.perFeature.warnings } }
        : {}),
    };
    this.runs.record('disparity', { model: modelFp, saes: fp.saes, languages: languages.map((l) => l.code), settings }, full);
    return full;
  }

  private async precisionGate(p: Prepared, ctx: JobContext) {
    const report = await precisionGate({
      ...p,
      quantize: (await this.extraction(p, ctx)).quantize,
      runtime: this.runtime,
      layers: p.saes.map((s) => saeLayer(s)!),
      batches: (ids) => this.extractionBatches(p, ids),
      signal: ctx.signal,
      progress: (done, total) => ctx.progress('fidelity gate (exact and fast)', done, total),
    });
    checkGate(report);
    return report;
  }

  /** The extraction's batches: English phrases first (every other row is summed over its English
   * phrase's active set), then the rest. The fast precision's gate batches the same way. */
  private extractionBatches(p: Prepared, phrases: number[]): number[][] {
    const isEn = (i: number) => p.phrases[i].language === 0;
    return [...this.batches(p, phrases.filter(isEn)), ...this.batches(p, phrases.filter((i) => !isEn(i)))];
  }

  /** Phrases in batches of one padded length (`paddedLength`), so a phrase's float32 figures do not
   * depend on its batch (fast ones do: one quantization range per tensor); within a length, split
   * by `batchByLength`. */
  private batches(p: Prepared, phrases: number[]): number[][] {
    const padded = (i: number) => paddedLength(p.phrases[i].tokens.length, p.folder.config.maxPositions);
    const byLength = new Map<number, number[]>();
    for (const i of [...phrases].sort((a, b) => padded(a) - padded(b) || a - b)) {
      const group = byLength.get(padded(i));
      if (group) group.push(i);
      else byLength.set(padded(i), [i]);
    }
    return [...byLength.values()].flatMap((group) => batchByLength(group, padded));
  }

  /** What the top-feature ranking needs: per layer the key of its stored result (the reduction,
   * the number listed and the English and medium/low rows' keys) and, unless every layer's result
   * is stored, exact sums fed by every English and medium/low phrase's full summary. Null when no
   * top features are asked for. */
  private ranking(p: Prepared, keys: string[][]) {
    const { settings, languages, saes, phrases } = p;
    const low = new Set(languages.flatMap((l, i) => (l.tier === 'medium-low' ? [i] : [])));
    if (settings.topFeatures <= 0 || low.size === 0) return null;
    const ranked = phrases.map((ph, i) => i).filter((i) => phrases[i].language === 0 || low.has(phrases[i].language));
    const setKeys = saes.map((_, l) => createHash('sha256').update(JSON.stringify([settings.reduction, settings.topFeatures, ranked.map((i) => keys[i][l])])).digest('hex'));
    const stored = setKeys.map((k) => this.cache.topSet(k));
    const sums = stored.every((s) => s !== null) ? null : saes.map((sae) => new TopFeatureSums(sae.dSae));
    const fed = new Set<number>();
    const add = sums
      ? (i: number, out: PhraseSummary[]) => {
          if (phrases[i].language !== 0 && !low.has(phrases[i].language)) return;
          fed.add(i);
          out.forEach((s, l) => sums[l].add(phrases[i].language === 0, s, settings.reduction));
        }
      : undefined;
    return { low, ranked, setKeys, stored, sums, fed, add };
  }

  /**
   * The top features of each layer, ranked on exact values: from the stored result, or from exact
   * sums over every feature (the English and medium/low phrases not extracted in this run are run
   * again to feed them). Then every row lacking the exact value of a top feature is run again and
   * keeps those float32 values (a few per row), so the lists and the drill-down read exact values
   * and an identical analysis later runs nothing.
   */
  private async rankTopFeatures(p: Prepared, keys: string[][], r: NonNullable<ReturnType<AnalysisService['ranking']>>, ctx: JobContext) {
    const { settings, saes, segments, phrases, folder } = p;
    let sets = r.stored as number[][];
    let recomputed = 0;
    let extractor: SaeExtractor | null = null;
    const runAgain = async (stage: string, which: number[], each: (i: number, out: PhraseSummary[]) => void) => {
      const batches = this.batches(p, which);
      ctx.progress(stage, 0, batches.length);
      extractor ??= await SaeExtractor.load(folder, saes, this.runtime, await this.extraction(p, ctx), ctx.signal, p.adapter);
      for (const [b, batch] of batches.entries()) {
        throwIfCancelled(ctx.signal);
        const out = await extractor.run(batch.map((i) => phrases[i].tokens), ctx.signal);
        batch.forEach((i, j) => each(i, out[j]));
        ctx.progress(stage, b + 1, batches.length);
        await yieldToEventLoop();
      }
      recomputed += which.length;
    };
    try {
      if (r.sums) {
        const rest = r.ranked.filter((i) => !r.fed.has(i));
        if (rest.length) await runAgain('ranking the top features', rest, r.add!);
        sets = r.sums.map((sum) => sum.top(settings.topFeatures, segments.length, segments.length * r.low.size));
        this.cache.putTopSets(r.setKeys.map((key, l) => ({ key, features: sets[l] })));
      }
      // Per phrase and layer, the top features its row cannot tell exactly.
      const wanted = new Map<number, { layer: number; features: number[] }[]>();
      phrases.forEach((ph, i) => {
        const lacking = saes
          .map((_, l) => {
            const row = this.cache.get(keys[i][l]);
            if (!row) throw new ApiError('STORE_ERROR', 'a cached activation summary disappeared during the analysis; run it again');
            return { layer: l, features: sets[l].filter((f) => !featureValue(row, f).exact) };
          })
          .filter((w) => w.features.length > 0);
        if (lacking.length) wanted.set(i, lacking);
      });
      if (wanted.size) {
        await runAgain('exact values of the top features', [...wanted.keys()], (i, out) =>
          this.cache.putExact(wanted.get(i)!.map(({ layer, features }) => ({ key: keys[i][layer], exact: exactValues(out[layer], features) }))),
        );
      }
    } finally {
      if (extractor) await (extractor as SaeExtractor).release();
    }
    return { sets, recomputed };
  }

  /** Runs again the phrases whose rows lack an exact value `wanted` asks for (rows an earlier
   * analysis stored) and stores those values; returns how many phrases ran. */
  private async fillExact(p: Prepared, keys: string[][], wanted: Map<number, { layer: number; features: number[] }[]>, ctx: JobContext): Promise<number> {
    const lacking = new Map<number, { layer: number; features: number[] }[]>();
    for (const [i, wants] of wanted) {
      const need = wants
        .map(({ layer, features }) => {
          const row = this.cache.get(keys[i][layer]);
          if (!row) throw new ApiError('STORE_ERROR', 'a cached activation summary disappeared during the analysis; run it again');
          return { layer, features: features.filter((f) => !featureValue(row, f).exact) };
        })
        .filter((w) => w.features.length > 0);
      if (need.length) lacking.set(i, need);
    }
    if (lacking.size === 0) return 0;
    const batches = this.batches(p, [...lacking.keys()]);
    ctx.progress('exact values of the phrases\' features', 0, batches.length);
    const extractor = await SaeExtractor.load(p.folder, p.saes, this.runtime, await this.extraction(p, ctx), ctx.signal, p.adapter);
    try {
      for (const [b, batch] of batches.entries()) {
        throwIfCancelled(ctx.signal);
        const out = await extractor.run(batch.map((i) => p.phrases[i].tokens), ctx.signal);
        this.cache.putExact(batch.flatMap((i, j) => lacking.get(i)!.map(({ layer, features }) => ({ key: keys[i][layer], exact: exactValues(out[j][layer], features) }))));
        ctx.progress('exact values of the phrases\' features', b + 1, batches.length);
        await yieldToEventLoop();
      }
    } finally {
      await extractor.release();
    }
    return lacking.size;
  }

  /** Runs the missing phrases through the fused graph, length-sorted batches, one transaction
   * each: English first, since every other row is summed over its English phrase's active set. */
  private async extract(p: Prepared, keys: string[][], missing: number[], ctx: JobContext, onPhrase?: (i: number, out: PhraseSummary[]) => void): Promise<void> {
    const { folder, saes, phrases, settings, languages } = p;
    const isEn = (i: number) => phrases[i].language === 0;
    const batches = this.extractionBatches(p, missing);
    // The English phrases' active sets, read back from the cache for the segments of one batch
    // (English rows are all committed before any other batch runs; a bitmap is d_sae / 8 bytes per
    // SAE, so they are not all held at once).
    const references = (batch: number[]): Map<number, Uint8Array[]> => {
      const sets = new Map<number, Uint8Array[]>();
      for (const i of batch) {
        const segment = phrases[i].segment;
        if (isEn(i) || sets.has(segment)) continue;
        sets.set(
          segment,
          keys[segment * languages.length].map((k) => {
            const bits = this.cache.active(k);
            if (!bits) throw new ApiError('STORE_ERROR', 'a cached English activation summary disappeared during the analysis; run it again');
            return bits;
          }),
        );
      }
      return sets;
    };
    ctx.progress('loading model and SAEs', 0, batches.length);
    const extractor = await SaeExtractor.load(folder, saes, this.runtime, await this.extraction(p, ctx), ctx.signal, p.adapter);
    try {
      const t0 = performance.now();
      let tokensDone = 0;
      const tokensTotal = missing.reduce((s, i) => s + phrases[i].tokens.length, 0);
      for (const [b, batch] of batches.entries()) {
        throwIfCancelled(ctx.signal);
        const sets = references(batch);
        const out = await extractor.run(batch.map((i) => phrases[i].tokens), ctx.signal);
        if (onPhrase) batch.forEach((i, j) => onPhrase(i, out[j]));
        this.cache.putBatch(
          batch.flatMap((i, j) =>
            saes.map((sae, l) => ({ key: keys[i][l], row: cacheRow(out[j][l], isEn(i) ? null : sets.get(phrases[i].segment)![l], settings.keepFeatures, sae.dSae) })),
          ),
        );
        tokensDone += batch.reduce((s, i) => s + phrases[i].tokens.length, 0);
        const elapsed = (performance.now() - t0) / 1000;
        ctx.progress('extracting', b + 1, batches.length, Math.round((elapsed / tokensDone) * (tokensTotal - tokensDone)));
        await yieldToEventLoop();
      }
    } finally {
      await extractor.release();
    }
  }
}

type Prepared = Awaited<ReturnType<AnalysisService['prepare']>>;

/** Per phrase (index into the prepared phrases, segment-major), the features per SAE whose exact
 * values the per-feature figures read: each plan's feature on its segments in every language. */
function featureWants(plans: readonly FeaturePlan[], languages: number): Map<number, { layer: number; features: number[] }[]> {
  const per = new Map<number, Map<number, Set<number>>>();
  for (const plan of plans) {
    for (const s of plan.segments) {
      for (let L = 0; L < languages; L++) {
        const i = s * languages + L;
        let bySae = per.get(i);
        if (!bySae) per.set(i, (bySae = new Map()));
        let set = bySae.get(plan.sae);
        if (!set) bySae.set(plan.sae, (set = new Set()));
        set.add(plan.feature);
      }
    }
  }
  return new Map([...per].map(([i, bySae]) => [i, [...bySae].map(([layer, f]) => ({ layer, features: [...f].sort((a, b) => a - b) }))]));
}

/** What one more batch costs beyond its padded tokens (run launch, reading every weight once),
 * in padded-token equivalents: it keeps the partition from splitting into many tiny batches. */
const BATCH_OVERHEAD_TOKENS = 64;

/** Splits length-sorted phrases into consecutive batches (≤ BATCH_PHRASES phrases, ≤ BATCH_TOKENS
 * tokens after padding to the longest; a longer phrase alone) minimising the padded tokens
 * computed plus BATCH_OVERHEAD_TOKENS per batch: a dynamic programme over the split points, so
 * a few long phrases do not pad a batch of short ones as a greedy fill would. */
export function batchByLength(order: readonly number[], lengths: (i: number) => number): number[][] {
  const n = order.length;
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let i = 1; i <= n; i++) {
    const longest = lengths(order[i - 1]);
    for (let j = i - 1; j >= 0 && i - j <= BATCH_PHRASES; j--) {
      const size = i - j;
      if (size > 1 && size * longest > BATCH_TOKENS) break;
      const cost = best[j] + size * longest + BATCH_OVERHEAD_TOKENS;
      if (cost < best[i]) {
        best[i] = cost;
        from[i] = j;
      }
    }
  }
  const batches: number[][] = [];
  for (let i = n; i > 0; i = from[i]) batches.unshift(order.slice(from[i], i));
  return batches;
}
