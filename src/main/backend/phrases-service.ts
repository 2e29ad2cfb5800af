// phrases.neuronpedia: English phrases per feature from a downloaded Neuronpedia export (or saved
// API answers), by the >= 80 % rule (data/neuronpedia/select.ts), detokenised with the model's
// tokenizer in the tokenizer worker, written as a phrases JSONL (one PhraseLine per line) that the
// translation step reads.
//
// Steps: choose the features (an index list, an explanation search, or the top features of an
// analysis run at the source's layer) → read their maxActApprox and activation records → keep the
// records that can pass → look every distinct token string up in the vocabulary → cut windows →
// decode → trim, drop empty and duplicate phrases per feature → write.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { DisparitySummary } from '../../shared/dto';
import type { NeuronpediaFeatureSummary, NeuronpediaPhrasesResult, PhraseLine } from '../../shared/neuronpedia';
import { ApiError } from '../../shared/errors';
import { readApiFeature } from '../data/neuronpedia/api-json';
import { readActivationRecords, readFeatureRows, searchExplanations } from '../data/neuronpedia/export-reader';
import { locateSource, NEURONPEDIA_ID, type SourceFolder } from '../data/neuronpedia/layout';
import type { ActivationRecord } from '../data/neuronpedia/records';
import { hookLayer, saeMismatchWarnings, type SaeFacts } from '../data/neuronpedia/sae-match';
import { DEFAULT_SELECTION, featureMaximum, recordPasses, recordWindows, type SelectionSettings } from '../data/neuronpedia/select';
import { formsToLookUp, resolveToken, type ResolvedToken, type VocabEntry } from '../data/neuronpedia/token-map';
import type { TokenizerHost } from '../io/tokenizer-host';
import { writeOutputFile, checkOutputFile } from '../io/output';
import { loadSae } from '../sae/sae';
import type { RunsRepo } from '../store/runs-repo';
import type { JobContext } from './handler';
import { throwIfCancelled } from './jobs';

export interface NeuronpediaPhrasesRequest {
  export?: string;
  api?: string[];
  source: string;
  modelId?: string;
  features?: number[];
  search?: string;
  fromRun?: { runId: number; top: number };
  /** At most this many features from a search (default 100). */
  limit?: number;
  threshold?: number;
  thresholdRule?: SelectionSettings['thresholdRule'];
  maximum?: SelectionSettings['maximum'];
  window?: { before: number; after: number };
  tokenizer: string;
  sae?: string;
  out: string;
}

export const DEFAULT_SEARCH_LIMIT = 100;

/** A phrases file of ours: empty (nothing to lose), or its first line is a phrase line we wrote. */
export function isOurPhrasesFile(path: string): boolean {
  try {
    const head = readFileSync(path).subarray(0, 1 << 16).toString('utf8');
    if (head.trim() === '') return true;
    const first = JSON.parse(head.split('\n')[0]) as Partial<PhraseLine>;
    return first.provenance?.producer === 'linguascope' && typeof first.text === 'string';
  } catch {
    return false;
  }
}

const FORMULAS = {
  pass: "record-max: maxValue >= threshold * maximum; token: every token value >= threshold * maximum is a peak (strongest first; a peak inside a kept peak's window adds nothing)",
  maximum: 'maxActApprox: the feature row of the export (Neuronpedia\'s largest example); recomputed: max over the values of every record read for the feature',
  window: 'tokens [peak - before, peak + after], the start moved forward to a word start (not past the peak), the end grown by at most 8 tokens to finish a word; decoded by the tokenizer, special tokens dropped, surrounding whitespace trimmed',
  tokens: "a token string is looked up as itself, with backslash-n as newline, in byte-level form (space -> Ġ, newline -> Ċ), in SentencePiece form (space -> ▁); a phrase with a token no form matches is dropped (counted as unmappable)",
  duplicates: 'per feature, a phrase whose text equals an earlier one is dropped',
  special: 'a peak on a special token (BOS) gives no phrase (counted as specialPeak)',
};

interface Loaded {
  modelId: string;
  sourceId: string;
  meta: SourceFolder['meta'];
  features: number[];
  explanations: Map<number, string[]>;
  maxActApprox: Map<number, number | null>;
  records: Map<number, ActivationRecord[]>;
  filesRead: string[];
  selection: NeuronpediaPhrasesResult['selection'];
  warnings: string[];
}

export class PhrasesService {
  constructor(
    private readonly tokenizers: TokenizerHost,
    private readonly runs: RunsRepo,
  ) {}

  async neuronpedia(request: NeuronpediaPhrasesRequest, ctx: JobContext): Promise<NeuronpediaPhrasesResult> {
    if (!NEURONPEDIA_ID.test(request.source)) throw new ApiError('INVALID_ARGUMENT', `source '${request.source.slice(0, 40)}' is not a Neuronpedia source id (like 20-gemmascope-res-16k)`);
    // Refused before any work: the output must be new or a phrases file of ours.
    checkOutputFile(request.out, isOurPhrasesFile);
    const settings: SelectionSettings = {
      threshold: request.threshold ?? DEFAULT_SELECTION.threshold,
      thresholdRule: request.thresholdRule ?? DEFAULT_SELECTION.thresholdRule,
      maximum: request.maximum ?? DEFAULT_SELECTION.maximum,
      before: request.window?.before ?? DEFAULT_SELECTION.before,
      after: request.window?.after ?? DEFAULT_SELECTION.after,
    };
    const runSae = request.fromRun ? this.runSae(request.fromRun.runId, request.source) : null;
    const loaded = request.export !== undefined ? await this.fromExport(request, ctx) : this.fromApi(request);
    const warnings = [...loaded.warnings];
    warnings.push(...saeMismatchWarnings(loaded.modelId, loaded.sourceId, loaded.meta, request.sae !== undefined ? await saeFacts(request.sae) : runSae));

    // Which records can pass, per feature.
    const perFeature = loaded.features.map((feature) => {
      const records = loaded.records.get(feature) ?? [];
      const maximum = featureMaximum(records, loaded.maxActApprox.get(feature) ?? null, settings.maximum);
      const usable = maximum !== null && maximum > 0;
      const bar = usable ? settings.threshold * maximum : Infinity;
      const passing = usable ? records.filter((r) => recordPasses(r, bar, settings.thresholdRule)) : [];
      if (records.length === 0) warnings.push(`feature ${feature} has no activation records in the export: no phrases`);
      else if (!usable) warnings.push(`feature ${feature}: no positive maximum (${settings.maximum} is ${maximum ?? 'absent'}), so no record can be judged against it: no phrases`);
      return { feature, records, maximum, bar, passing };
    });

    // One vocabulary lookup for every distinct token string of the passing records.
    ctx.progress('looking tokens up', 0, 1);
    const strings = new Set<string>();
    for (const f of perFeature) for (const r of f.passing) for (const t of r.tokens) strings.add(t);
    const forms = formsToLookUp(strings);
    const looked = await this.tokenizers.lookup(request.tokenizer, forms, ctx.signal);
    const vocab = new Map<string, VocabEntry>();
    forms.forEach((form, i) => {
      const id = looked.ids[i];
      if (id !== null && id !== undefined) vocab.set(form, { id, special: looked.special[i] });
    });
    throwIfCancelled(ctx.signal);
    // Strings no form of which is in the vocabulary: a few are the runner's placeholders; many mean
    // the tokenizer is not the model's the export was made with.
    const unmapped = [...strings].filter((t) => resolveToken(t, vocab) === null);
    if (unmapped.length > 0) {
      const share = unmapped.length / strings.size;
      warnings.push(
        `${unmapped.length} of ${strings.size} distinct token strings of the passing records are not in the tokenizer's vocabulary${share > 0.2 ? ` — is ${request.tokenizer} the tokenizer of ${loaded.modelId}?` : ''}; phrases holding them were dropped`,
      );
    }

    // Windows, then one decode call for all of them.
    interface Pending { feature: number; line: Omit<PhraseLine, 'text'>; ids: number[] }
    const pending: Pending[] = [];
    const summaries = new Map<number, NeuronpediaFeatureSummary>();
    for (const f of perFeature) {
      const summary: NeuronpediaFeatureSummary = {
        feature: f.feature,
        explanations: loaded.explanations.get(f.feature) ?? [],
        maxActApprox: loaded.maxActApprox.get(f.feature) ?? null,
        maximum: f.maximum,
        records: f.records.length,
        passing: f.passing.length,
        phrases: 0,
        dropped: { unmappable: 0, empty: 0, duplicate: 0, specialPeak: 0 },
      };
      summaries.set(f.feature, summary);
      const recordNumber = new Map<ActivationRecord, number>();
      const counters = new Map<string, number>();
      for (const r of f.records) {
        const n = counters.get(r.where.file) ?? 0;
        recordNumber.set(r, n);
        counters.set(r.where.file, n + 1);
      }
      for (const r of f.passing) {
        const resolved = r.tokens.map((t) => resolveToken(t, vocab));
        // Unresolved tokens keep their string as the piece for the word-boundary test only; any
        // window holding one is dropped below.
        const tokens: ResolvedToken[] = resolved.map((t, i) => t ?? { id: -1, piece: r.tokens[i], special: false });
        const windows = recordWindows(r, tokens, f.bar, settings);
        // A passing record that gives no window peaked on a special token (BOS) only.
        if (windows.length === 0) summary.dropped.specialPeak++;
        for (const w of windows) {
          const ids = tokens.slice(w.start, w.end + 1).map((t) => t.id);
          if (ids.includes(-1)) {
            summary.dropped.unmappable++;
            continue;
          }
          pending.push({
            feature: f.feature,
            ids,
            line: {
              feature: f.feature,
              language: 'en',
              provenance: {
                producer: 'linguascope',
                kind: 'neuronpedia',
                modelId: loaded.modelId,
                sourceId: loaded.sourceId,
                feature: f.feature,
                file: r.where.label.replace(/ activations\[\d+\]$/, ''),
                line: r.where.line,
                record: recordNumber.get(r) ?? 0,
                recordId: r.id,
                binMin: r.binMin,
                peak: w.peak,
                value: w.value,
                window: [w.start, w.end],
                maximum: f.maximum!,
                maximumSource: settings.maximum,
                threshold: settings.threshold,
                thresholdRule: settings.thresholdRule,
              },
            },
          });
        }
      }
    }
    ctx.progress('decoding phrases', 0, pending.length);
    const decoded = pending.length ? await this.tokenizers.decode(request.tokenizer, pending.map((p) => p.ids), ctx.signal) : { info: looked.info, texts: [] };
    throwIfCancelled(ctx.signal);
    const lines: PhraseLine[] = [];
    const seen = new Map<number, Set<string>>();
    pending.forEach((p, i) => {
      const summary = summaries.get(p.feature)!;
      const text = decoded.texts[i].trim();
      if (text === '') return void summary.dropped.empty++;
      const texts = seen.get(p.feature) ?? new Set<string>();
      seen.set(p.feature, texts);
      if (texts.has(text)) return void summary.dropped.duplicate++;
      texts.add(text);
      summary.phrases++;
      lines.push({ feature: p.line.feature, language: 'en', text, provenance: p.line.provenance });
    });
    for (const s of summaries.values()) if (s.records > 0 && s.phrases === 0 && s.maximum !== null && s.maximum > 0) warnings.push(`feature ${s.feature}: no record reached ${settings.threshold} of its maximum ${s.maximum} with a usable phrase`);
    ctx.progress('writing', pending.length, pending.length);
    const out = writeOutputFile(request.out, lines.map((l) => `${JSON.stringify(l)}\n`).join(''), isOurPhrasesFile);
    return {
      out,
      modelId: loaded.modelId,
      sourceId: loaded.sourceId,
      input: { export: request.export ?? null, api: request.api ?? [], filesRead: loaded.filesRead },
      selection: loaded.selection,
      settings,
      tokenizer: { source: looked.info.source, sha256: looked.info.sha256 },
      phrases: lines.length,
      features: [...summaries.values()],
      warnings,
      formulas: FORMULAS,
    };
  }

  /** A stored analysis run's summary; another kind of run (evaluation, fine-tune) has no top features. */
  private analysisSummary(runId: number): DisparitySummary {
    const record: object = this.runs.get(runId);
    if (!('summary' in record)) throw new ApiError('INVALID_ARGUMENT', `run ${runId} is not an analysis run, so it has no top features; choose an analysis run`, { runId });
    return (record as { summary: DisparitySummary }).summary;
  }

  /** The run's SAE at the source's layer, for the mismatch check. */
  private runSae(runId: number, sourceId: string): SaeFacts | null {
    const summary = this.analysisSummary(runId);
    const layer = Number(/^(\d+)-/.exec(sourceId)?.[1] ?? NaN);
    const sae = summary.saes.find((s) => s.layer === layer);
    return sae ? { path: sae.source, layer: sae.layer, hook: sae.hook, dSae: sae.dSae, averageL0: sae.format === 'gemmascope' ? sae.averageL0 : null } : null;
  }

  /** The run's top features at the source's layer, in the run's order, at most `top`. */
  private runFeatures(runId: number, top: number, sourceId: string): { features: number[]; warnings: string[] } {
    const summary = this.analysisSummary(runId);
    const m = /^(\d+)-/.exec(sourceId);
    if (!m) throw new ApiError('INVALID_ARGUMENT', `source '${sourceId}' does not start with a layer number, so the run's features of its layer cannot be chosen; list the features instead`);
    const layer = Number(m[1]);
    const list = (summary.top_features ?? []).filter((t) => t.layer === layer);
    if (list.length === 0) {
      throw new ApiError('INVALID_ARGUMENT', `run ${runId} has no top features at layer ${layer} (its layers: ${summary.layers.join(', ')}); choose a run that analysed layer ${layer} or another source`, { runId, layer });
    }
    const features = [...new Set(list.map((t) => t.feature))].slice(0, top);
    const warnings = features.length < top ? [`run ${runId} lists ${features.length} top features at layer ${layer}; ${top} were asked for`] : [];
    return { features, warnings };
  }

  private async fromExport(request: NeuronpediaPhrasesRequest, ctx: JobContext): Promise<Loaded> {
    const source = locateSource(request.export!, request.source, request.modelId);
    const filesRead: string[] = [];
    const options = { signal: ctx.signal, onBatch: (label: string) => filesRead.push(label) };
    const warnings: string[] = [];
    let features: number[];
    let explanations = new Map<number, string[]>();
    let selection: NeuronpediaPhrasesResult['selection'];
    if (request.search !== undefined) {
      ctx.progress('searching explanations', 0, 1);
      explanations = await searchExplanations(source, request.search, options);
      const limit = request.limit ?? DEFAULT_SEARCH_LIMIT;
      const all = [...explanations.keys()].sort((a, b) => a - b);
      if (all.length === 0) throw new ApiError('NEURONPEDIA_NOT_FOUND', `no explanation of ${source.modelId}/${source.sourceId} contains "${request.search.slice(0, 60)}"`, { search: request.search });
      features = all.slice(0, limit);
      if (all.length > limit) warnings.push(`${all.length} features match "${request.search}"; the ${limit} lowest indices are used (raise the limit or narrow the search)`);
      selection = { by: 'search', search: request.search, matched: all.length };
    } else if (request.fromRun) {
      const chosen = this.runFeatures(request.fromRun.runId, request.fromRun.top, source.sourceId);
      features = chosen.features;
      warnings.push(...chosen.warnings);
      selection = { by: 'run', runId: request.fromRun.runId, top: request.fromRun.top };
    } else {
      features = [...new Set(request.features!)];
      selection = { by: 'features' };
    }
    ctx.progress('reading features', 0, 2);
    const rows = await readFeatureRows(source, features, options);
    throwIfCancelled(ctx.signal);
    ctx.progress('reading activations', 1, 2);
    const records = await readActivationRecords(source, features, options);
    return {
      modelId: source.modelId,
      sourceId: source.sourceId,
      meta: source.meta,
      features,
      explanations,
      maxActApprox: new Map(features.map((f) => [f, rows.rows.get(f)?.maxActApprox ?? null])),
      records,
      filesRead,
      selection,
      warnings,
    };
  }

  private fromApi(request: NeuronpediaPhrasesRequest): Loaded {
    const expected = { modelId: request.modelId ?? null, sourceId: request.source };
    const read = request.api!.map((file) => readApiFeature(file, expected));
    const models = [...new Set(read.map((r) => r.modelId).filter((m): m is string => m !== null))];
    if (models.length > 1) throw new ApiError('NEURONPEDIA_INVALID', `the API files are of several models (${models.join(', ')}); give the files of one model and source`);
    const byFeature = new Map<number, (typeof read)[number]>();
    for (const r of read) {
      const earlier = byFeature.get(r.index);
      if (earlier) earlier.records.push(...r.records);
      else byFeature.set(r.index, r);
    }
    const warnings: string[] = [];
    let features: number[];
    let selection: NeuronpediaPhrasesResult['selection'];
    if (request.search !== undefined) {
      const needle = request.search.toLowerCase();
      features = [...byFeature.values()].filter((r) => r.explanations.some((d) => d.toLowerCase().includes(needle))).map((r) => r.index).sort((a, b) => a - b);
      if (features.length === 0) throw new ApiError('NEURONPEDIA_NOT_FOUND', `no explanation in the API files contains "${request.search.slice(0, 60)}"`, { search: request.search });
      selection = { by: 'search', search: request.search, matched: features.length };
    } else if (request.fromRun) {
      features = this.runFeatures(request.fromRun.runId, request.fromRun.top, request.source).features;
      selection = { by: 'run', runId: request.fromRun.runId, top: request.fromRun.top };
    } else {
      features = [...new Set(request.features!)];
      selection = { by: 'features' };
    }
    const missing = features.filter((f) => !byFeature.has(f));
    if (missing.length) throw new ApiError('NEURONPEDIA_NOT_FOUND', `feature${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')} ${missing.length > 1 ? 'are' : 'is'} in none of the API files given`, { features: missing.slice(0, 100) });
    return {
      modelId: request.modelId ?? models[0] ?? 'unknown',
      sourceId: request.source,
      meta: null,
      features,
      explanations: new Map(features.map((f) => [f, byFeature.get(f)!.explanations])),
      maxActApprox: new Map(features.map((f) => [f, byFeature.get(f)!.maxActApprox])),
      records: new Map(features.map((f) => [f, byFeature.get(f)!.records])),
      filesRead: read.map((r) => relative(process.cwd(), r.file) || r.file),
      selection,
      warnings,
    };
  }
}

/** What the mismatch check needs of the user's SAE (sae.inspect's reading). */
async function saeFacts(path: string): Promise<SaeFacts> {
  const spec = await loadSae(path);
  const fromHook = hookLayer(spec.hookName);
  return {
    path: spec.source,
    layer: Number.isFinite(fromHook) ? fromHook : null,
    hook: spec.hookName,
    dSae: spec.dSae,
    // Only Gemma Scope's L0 names a file (average_l0_N); other formats' L0 is a measurement.
    averageL0: spec.format === 'gemmascope' ? spec.averageL0 : null,
  };
}
