// The API contract: every method takes one plain-data argument and returns a promise of plain data.
// Input schemas are validated at the backend boundary (zod); output types are the DTOs in dto.ts.
// This file is the single source of truth for the backend, the preload, the renderer and the CLI.
import { z } from 'zod';
import { FLORES_SPLIT_NAMES, type DatasetImportResult, type DatasetTranslateResult } from './dataset';
import type { TranslateResult } from './translate';
import { CORRELATION_MEASURES, CORRELATION_METRICS, EVAL_PRESET_NAMES, EVAL_TASKS, type CorrelationResult, type EvalResult, type SweepResult } from './eval';
import { DIRECTIONS, LORA_MODULES, LOSS_FEATURES, LOSS_SPACES, NORMALISATIONS, REDUCTIONS, type FinetuneResult, type FinetuneStatus } from './finetune';
import { MAXIMUM_SOURCES, THRESHOLD_RULES, type NeuronpediaPhrasesResult } from './neuronpedia';
import type { StudyResult } from './study';
import type {
  ActivationsExport,
  AnalysisExport,
  AppInfo,
  Capabilities,
  DemoInfo,
  DisparitySummary,
  TokenActivations,
  CorpusLanguage,
  CorpusPage,
  CorpusPreview,
  FertilityExport,
  FertilityResult,
  JobInfo,
  JobState,
  Language,
  ModelInfo,
  OpenedProject,
  Project,
  ProjectListItem,
  RunListItem,
  RunRecord,
  RandomModelResult,
  SaeInfo,
  RandomSaesResult,
  TokenizerInfo,
} from './dto';

// Surrounding whitespace is dropped; the registry canonicalises the rest (case, `_`, corpus
// aliases such as `008` or `chr_uppercase`) and names what is wrong with a malformed code.
export const languageCode = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9]+([_-][A-Za-z0-9]+)*$/, 'a language code such as "en", "zh-Hans" or "cmn_hans"');
export const tier = z.enum(['reference', 'high', 'medium-low']);
const jobId = z.string().min(1).max(64).optional();
const languageList = z.array(languageCode).min(1).max(600);
const localPath = z.string().min(1).max(4096);
const empty = z.object({}).strict();

function method<I extends z.ZodType, O>(input: I) {
  return { input, output: undefined as unknown as O };
}

export const hookKind = z.enum(['resid_pre', 'resid_mid', 'resid_post']);
const activationsInput = z
  .object({
    model: localPath,
    text: z.string().min(1).max(100_000).optional(),
    tokenIds: z.array(z.number().int().min(0).max(2 ** 31)).min(1).max(1_000_000).optional(),
    /** Prepend the tokenizer's BOS to `text` (default true, as the model was trained). */
    bos: z.boolean().optional(),
    layers: z.union([z.literal('all'), z.array(z.number().int().min(0).max(1000)).min(1).max(1000)]),
    hooks: z.array(hookKind).min(1).max(3).optional(),
    logits: z.boolean().optional(),
    out: localPath,
    /** A PEFT LoRA adapter folder applied to the model (adapter_config.json + adapter_model.safetensors). */
    adapter: localPath.optional(),
    jobId,
  })
  .strict()
  .refine((v) => (v.text === undefined) !== (v.tokenIds === undefined), { message: 'give exactly one of text or tokenIds' });
const makeRandomInput = z
  .object({
    arch: z.enum(['gemma2', 'llama', 'mistral', 'qwen2']),
    preset: z.string().min(1).max(64),
    dtype: z.enum(['f32', 'bf16', 'f16']),
    out: localPath,
    seed: z.number().int().min(0).max(2 ** 31).optional(),
    jobId,
  })
  .strict();

const disparitySettings = z
  .object({
    reduction: z.enum(['mean', 'max']),
    features: z.enum(['english-active', 'all']),
    includeBos: z.boolean(),
    bootstrap: z.number().int().min(0).max(100_000),
    seed: z.number().int().min(0).max(2 ** 31),
    fidelityWarnDrop: z.number().min(0).max(10),
    topFeatures: z.number().int().min(0).max(1000),
    keepFeatures: z.number().int().min(1).max(1 << 20),
    precision: z.enum(['exact', 'fast']),
    gateSegments: z.number().int().min(1).max(10_000),
    gateMaxMeanDiff: z.number().min(0).max(10),
    gateMaxGapDiff: z.number().min(0).max(1000),
    gateMinTopOverlap: z.number().min(0).max(1),
  })
  .partial()
  .strict();
const analysisFields = {
  model: localPath,
  /** A folder of SAEs (one chosen per layer) or explicit SAE paths. */
  saes: z.union([localPath, z.array(localPath).min(1).max(1000)]),
  languages: languageList,
  corpus: z.union([z.literal('udhr'), localPath]).optional(),
  limit: z.number().int().min(1).max(1_000_000).optional(),
  settings: disparitySettings.optional(),
  /** A PEFT LoRA adapter folder applied to the model; its files' sha256 enter the cache keys. */
  adapter: localPath.optional(),
  /** Only these aligned segments (keys), e.g. a fine-tune's held-out ones. */
  segments: z.array(z.string().min(1).max(200)).min(1).max(100_000).optional(),
  /** A phrases.json (segment → feature, Neuronpedia source): per-feature figures on each feature's own segments. */
  phrases: localPath.optional(),
  jobId,
};
const tokensInput = z
  .object({
    model: localPath,
    /** One SAE (file or folder). */
    sae: localPath,
    text: z.string().min(1).max(20_000),
    bos: z.boolean().optional(),
    top: z.number().int().min(0).max(64).optional(),
    features: z.array(z.number().int().min(0)).max(64).optional(),
  })
  .strict();
const demoBuildInput = z
  .object({
    out: localPath.optional(),
    resume: z.boolean().optional(),
    /** Fewer training steps (a quick, lower-quality demo). */
    steps: z.number().int().min(1).max(1_000_000).optional(),
    jobId,
  })
  .strict();
// Fine-tune settings: every group and field optional (defaults in finetune.ts); ranges that are
// plainly absurd are refused here, the ones that depend on the model by the engine.
const layerList = z.array(z.number().int().min(0).max(10_000)).min(1).max(10_000).nullable();
const finetuneSettingsInput = z
  .object({
    loss: z
      .object({
        space: z.enum(LOSS_SPACES),
        reduction: z.enum(REDUCTIONS),
        direction: z.enum(DIRECTIONS),
        normalisation: z.enum(NORMALISATIONS),
        features: z.enum(LOSS_FEATURES),
        alpha: z.number().finite().min(0).max(1e6),
      })
      .partial()
      .strict(),
    lora: z
      .object({
        rank: z.number().int().min(1).max(4096),
        alpha: z.number().finite().min(0).max(1e6),
        rslora: z.boolean(),
        dropout: z.number().min(0).max(1),
        modules: z.array(z.enum(LORA_MODULES)).min(1).max(7),
        adaptLayers: layerList,
        lossLayers: layerList,
      })
      .partial()
      .strict(),
    optim: z
      .object({
        lr: z.number().finite().gt(0).max(10),
        warmup: z.number().int().min(0).max(10_000_000),
        minLrRatio: z.number().min(0).max(1),
        beta1: z.number().min(0).lt(1),
        beta2: z.number().min(0).lt(1),
        eps: z.number().finite().gt(0).max(1),
        weightDecay: z.number().finite().min(0).max(100),
        clipNorm: z.number().finite().min(0).max(1e6),
      })
      .partial()
      .strict(),
    data: z
      .object({
        pairs: z.number().int().min(1).max(10_000_000),
        passes: z.number().int().min(1).max(1000),
        heldOut: z.number().gt(0).lt(1),
        batchPairs: z.number().int().min(1).max(4096),
        batchTokens: z.number().int().min(4).max(100_000_000),
        maxTokens: z.number().int().min(2).max(1_000_000),
        seed: z.number().int().min(0).max(2 ** 31),
      })
      .partial()
      .strict(),
    steps: z.number().int().min(1).max(10_000_000).nullable(),
    monitor: z
      .object({
        evalEvery: z.number().int().min(1).max(10_000_000),
        checkpointEvery: z.number().int().min(1).max(10_000_000),
        keepCheckpoints: z.number().int().min(1).max(1000),
        watchdog: z.object({ threshold: z.number().finite().gt(0).nullable(), steps: z.number().int().min(1).max(10_000_000) }).partial().strict(),
        patience: z.number().int().min(1).max(100_000).nullable(),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();
const finetuneRunInput = z
  .object({
    model: localPath,
    saes: z.union([localPath, z.array(localPath).min(1).max(1000)]),
    /** English and the target languages. */
    languages: languageList,
    corpus: z.union([z.literal('udhr'), localPath]).optional(),
    limit: z.number().int().min(2).max(1_000_000).optional(),
    settings: finetuneSettingsInput.optional(),
    /** The run folder: new or empty, or (with resume) a run of ours. */
    outDir: localPath,
    resume: z.boolean().optional(),
    /** With resume: the checkpoint's step (default the latest). */
    checkpoint: z.number().int().min(0).max(10_000_000).optional(),
    /** How the before/after disparity analysis reduces tokens. */
    reduction: z.enum(['mean', 'max']).optional(),
    jobId,
  })
  .strict();
const mergeInput = z.object({ model: localPath, adapter: localPath, out: localPath, jobId }).strict();
const evalRunInput = z
  .object({
    model: localPath,
    adapter: localPath.optional(),
    data: localPath,
    task: z.enum(EVAL_TASKS).optional(),
    languages: languageList.optional(),
    preset: z.enum(EVAL_PRESET_NAMES).optional(),
    limit: z.number().int().min(1).max(10_000_000).optional(),
    fewshot: z.number().int().min(0).max(100).optional(),
    bootstrap: z.number().int().min(0).max(100_000).optional(),
    seed: z.number().int().min(0).max(2 ** 31).optional(),
    outDir: localPath.optional(),
    jobId,
  })
  .strict();
// The study's experiments. An evaluation result given inline is one eval.run returned: only the
// fields the correlation reads are checked, other keys pass (the result type may grow).
const evalScoresShape = z.object({ acc: z.number(), acc_stderr: z.number(), acc_norm: z.number(), acc_norm_stderr: z.number() }).passthrough();
export const evalResultShape = z
  .object({
    model: z.string().max(4096),
    adapter: z.string().max(4096).nullable(),
    preset: z.string().max(200),
    results: z
      .array(z.object({ task: z.enum(EVAL_TASKS), language: z.string().min(1).max(64), n: z.number().int().min(0), before: evalScoresShape, after: evalScoresShape.optional() }).passthrough())
      .max(100_000),
  })
  .passthrough();
const correlateInput = z
  .object({
    /** An analysis report folder (its summary.json), the file itself, or a stored run. */
    analysis: z.union([z.object({ path: localPath }).strict(), z.object({ runId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict()]),
    /** An evaluation folder (its results.json), the file itself, or an EvalResult. */
    eval: z.union([z.object({ path: localPath }).strict(), z.object({ result: evalResultShape }).strict()]),
    task: z.enum(EVAL_TASKS).optional(),
    metric: z.enum(CORRELATION_METRICS).optional(),
    measure: z.enum(CORRELATION_MEASURES).optional(),
    /** Whose accuracy: the base model's (default) or the adapted model's. */
    model: z.enum(['base', 'adapted']).optional(),
    bootstrap: z.number().int().min(0).max(100_000).optional(),
    seed: z.number().int().min(0).max(2 ** 31).optional(),
    outDir: localPath.optional(),
  })
  .strict();
// The whole study (measure, fine-tune, re-measure, evaluate, correlate) in one folder.
const studyRunInput = z
  .object({
    model: localPath,
    saes: z.union([localPath, z.array(localPath).min(1).max(1000)]),
    /** Every language measured and evaluated; English and at least one target among them. */
    languages: languageList,
    /** The fine-tune's targets (default: the chosen languages of the medium/low tier). */
    targets: languageList.optional(),
    corpus: z.union([z.literal('udhr'), localPath]).optional(),
    /** Aligned segments of the first measurement (default all). */
    limit: z.number().int().min(2).max(1_000_000).optional(),
    analysis: disparitySettings.optional(),
    finetune: finetuneSettingsInput.optional(),
    /** The multiple-choice task cut from the held-out segments. */
    task: z.object({ choices: z.number().int().min(2).max(10), seed: z.number().int().min(0).max(2 ** 31) }).partial().strict().optional(),
    bootstrap: z.number().int().min(0).max(100_000).optional(),
    outDir: localPath,
    jobId,
  })
  .strict();
const sweepRunInput = z
  .object({
    model: localPath,
    saes: z.union([localPath, z.array(localPath).min(1).max(1000)]),
    languages: languageList,
    corpus: z.union([z.literal('udhr'), localPath]).optional(),
    limit: z.number().int().min(2).max(1_000_000).optional(),
    /** The grid: α (the loss's retention weight) × adapted-layer sets × loss spaces. Lists are
     * checked by the sweep (empty, negative, beyond the model, duplicate points: typed errors). */
    alphas: z.array(z.number()).max(1000),
    adaptLayerSets: z.array(z.array(z.number())).max(1000),
    spaces: z.array(z.enum(LOSS_SPACES)).max(3),
    /** The fine-tune settings every point shares (the grid's own fields override them). */
    settings: finetuneSettingsInput.optional(),
    /** How the held-out disparity analyses reduce tokens. */
    reduction: z.enum(['mean', 'max']).optional(),
    /** Multiple-choice data: each point's adapter is evaluated (base and adapted, paired). */
    evalData: localPath.optional(),
    task: z.enum(EVAL_TASKS).optional(),
    evalLanguages: languageList.optional(),
    evalLimit: z.number().int().min(1).max(10_000_000).optional(),
    outDir: localPath,
    jobId,
  })
  .strict();
const translateRunInput = z
  .object({
    /** A Helsinki-NLP opus-mt folder as downloaded (config, spm files, vocab.json, safetensors or pytorch_model.bin). */
    model: localPath,
    /** The texts, or a UTF-8 file with one text per line. */
    texts: z.array(z.string().max(16_384)).min(1).max(100_000).optional(),
    inFile: localPath.optional(),
    /** A multi-target model's language token, e.g. >>cmn_Hans<<. */
    targetToken: z.string().regex(/^>>[A-Za-z0-9_]{2,16}<<$/).optional(),
    beams: z.number().int().min(1).max(32).optional(),
    maxLength: z.number().int().min(2).max(4096).optional(),
    batch: z.number().int().min(1).max(256).optional(),
    /** Reference translations, one per line, for BLEU and chrF++. */
    references: localPath.optional(),
    /** The target language's code (for BLEU's tokenizer: zh for Chinese). */
    language: languageCode.optional(),
    outFile: localPath.optional(),
    jobId,
  })
  .strict()
  .refine((v) => (v.texts === undefined) !== (v.inFile === undefined), { message: 'give either texts or inFile' });
const datasetTranslateInput = z
  .object({
    /** A corpus file (.tsv, rows in sourceLanguage) or a phrases JSONL from phrases.neuronpedia. */
    source: localPath,
    sourceLanguage: languageCode.optional(),
    targets: z.array(z.object({ language: languageCode, model: localPath, targetToken: z.string().regex(/^>>[A-Za-z0-9_]{2,16}<<$/).optional() }).strict()).min(1).max(50),
    beams: z.number().int().min(1).max(32).optional(),
    batch: z.number().int().min(1).max(256).optional(),
    outDir: localPath,
    jobId,
  })
  .strict();
const datasetImportInput = z
  .object({
    /** A FLORES folder, a FLORES+ parquet folder, or a .jsonl/.csv/.tsv/.parquet table (or a folder of them). */
    path: localPath,
    languages: languageList.optional(),
    split: z.enum(FLORES_SPLIT_NAMES).optional(),
    outDir: localPath,
    jobId,
  })
  .strict();
// phrases.neuronpedia: exactly one input (an export folder or saved API answers) and exactly one
// selection (feature indices, an explanation search, or an analysis run's top features).
const neuronpediaId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a Neuronpedia id like 20-gemmascope-res-16k or gemma-2-2b');
const neuronpediaPhrasesInput = z
  .object({
    export: localPath.optional(),
    api: z.array(localPath).min(1).max(1000).optional(),
    source: neuronpediaId,
    modelId: neuronpediaId.optional(),
    features: z.array(z.number().int().min(0).max(2 ** 31)).min(1).max(10_000).optional(),
    search: z.string().trim().min(1).max(200).optional(),
    fromRun: z.object({ runId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), top: z.number().int().min(1).max(10_000) }).strict().optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    threshold: z.number().gt(0).max(1).optional(),
    thresholdRule: z.enum(THRESHOLD_RULES).optional(),
    maximum: z.enum(MAXIMUM_SOURCES).optional(),
    window: z.object({ before: z.number().int().min(0).max(1024), after: z.number().int().min(0).max(1024) }).strict().optional(),
    tokenizer: localPath,
    sae: localPath.optional(),
    out: localPath,
    jobId,
  })
  .strict()
  .refine((v) => (v.export === undefined) !== (v.api === undefined), { message: 'give either export (a Neuronpedia export folder) or api (saved API answers), not both' })
  .refine((v) => [v.features, v.search, v.fromRun].filter((x) => x !== undefined).length === 1, { message: 'choose the features one way: features, search or fromRun' });
const analysisRunInput = z.object(analysisFields).strict();
const analysisExportInput = z.object({ ...analysisFields, outDir: localPath }).strict();
const randomSaesInput = z
  .object({
    model: localPath,
    width: z.number().int().min(1).max(1 << 20),
    out: localPath,
    layers: z.union([z.literal('all'), z.array(z.number().int().min(0).max(1000)).min(1)]).optional(),
    architecture: z.enum(['jumprelu', 'standard', 'topk']).optional(),
    seed: z.number().int().min(0).max(2 ** 31).optional(),
    jobId,
  })
  .strict();

// Projects and run history. A project's state is validated on save (strict: a misspelt key is an
// error) and when read back from the store (unknown keys dropped: a newer version's row still opens).
const stepId = z.string().regex(/^[a-z]{1,32}$/, 'a wizard step id such as "model"');
const pathOrEmpty = z.string().max(4096);
const projectRunSettings = z
  .object({
    reduction: z.enum(['mean', 'max']),
    features: z.enum(['english-active', 'all']),
    includeBos: z.boolean(),
    bootstrap: z.number().int().min(0).max(100_000),
    keepFeatures: z.number().int().min(1).max(1 << 20),
    limit: z.number().int().min(1).max(1_000_000).nullable(),
  })
  .strict();
const projectStateFields = {
  step: stepId,
  languages: z.array(languageCode).max(600),
  tiers: z.record(languageCode, tier),
  tokenizerPath: pathOrEmpty,
  modelPath: pathOrEmpty,
  saesPath: pathOrEmpty,
  saeChoice: z.record(z.string().regex(/^\d{1,4}$/), localPath.nullable()),
  corpus: z.union([z.literal('udhr'), localPath]),
  runSettings: projectRunSettings,
  runId: z.number().int().min(1).nullable(),
};
// The Fine-tune step's choices (ProjectFinetuneState): strict when saved; when read back a damaged or
// newer-shaped entry is dropped (the step starts afresh) instead of making the whole project unreadable.
const projectFinetuneFields = {
  outDir: pathOrEmpty,
  targets: z.array(languageCode).max(600),
  limit: z.number().int().min(2).max(1_000_000).nullable(),
  settings: finetuneSettingsInput,
  jobId: z.string().min(1).max(64).nullable(),
  run: z.object({ corpus: z.union([z.literal('udhr'), localPath]), limit: z.number().int().min(2).max(1_000_000).nullable() }).strict().nullable(),
};
// The Evaluate step's choices (ProjectEvaluateState): the same rule, strict when saved, dropped when
// damaged on read.
const projectEvaluateFields = {
  data: pathOrEmpty,
  task: z.enum(['all', ...EVAL_TASKS]),
  languages: z.union([z.enum(['project', 'files']), z.array(languageCode).max(600)]),
  preset: z.enum(EVAL_PRESET_NAMES),
  limit: z.number().int().min(1).max(10_000_000).nullable(),
  fewshot: z.number().int().min(0).max(100).nullable(),
  adapter: z.enum(['none', 'finetune', 'path']),
  adapterPath: pathOrEmpty,
  outDir: pathOrEmpty,
  jobId: z.string().min(1).max(64).nullable(),
  runId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
};
// The Phrases step's choices (ProjectPhrasesState): the same rule (strict when saved, dropped when
// damaged on read). Fields hold what the user typed; the requests are checked when sent.
const typedText = z.string().max(100_000);
const projectPhrasesFields = {
  source: z.enum(['import', 'neuronpedia', 'phrases']),
  importForm: z.object({ path: pathOrEmpty, languages: typedText, split: z.enum(FLORES_SPLIT_NAMES), outDir: pathOrEmpty }).strict(),
  neuronpediaForm: z
    .object({ export: pathOrEmpty, source: typedText, by: z.enum(['features', 'search']), features: typedText, search: typedText, tokenizer: pathOrEmpty, out: pathOrEmpty })
    .strict(),
  phrasesPath: pathOrEmpty,
  targets: z.record(languageCode, z.object({ model: pathOrEmpty, targetToken: typedText }).strict()),
  translateDir: pathOrEmpty,
  beams: z.number().finite().nullable(),
};
/** A project's state as a client sends it. */
export const projectStateInput = z
  .object({
    ...projectStateFields,
    adapterPath: pathOrEmpty.optional(),
    finetune: z.object(projectFinetuneFields).strict().optional(),
    evaluate: z.object(projectEvaluateFields).strict().optional(),
    phrases: z.object(projectPhrasesFields).strict().optional(),
  })
  .strict();
/** A project's state as read from the store. */
export const storedProjectState = z.object({
  ...projectStateFields,
  adapterPath: pathOrEmpty.optional().catch(undefined),
  finetune: z.object(projectFinetuneFields).optional().catch(undefined),
  evaluate: z.object(projectEvaluateFields).optional().catch(undefined),
  phrases: z.object(projectPhrasesFields).optional().catch(undefined),
});
const projectId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const runId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const displayName = z.string().trim().min(1).max(200);
const projectIdInput = z.object({ id: projectId }).strict();
const projectCreateInput = z.object({ name: displayName, state: projectStateInput }).strict();
const projectSaveInput = z.object({ id: projectId, revision: z.number().int().min(0), state: projectStateInput }).strict();
const projectRenameInput = z.object({ id: projectId, name: displayName }).strict();
const projectDuplicateInput = z.object({ id: projectId, name: displayName.optional() }).strict();
const projectRelocateInput = z
  .object({ id: projectId, revision: z.number().int().min(0), model: localPath.optional(), saes: localPath.optional() })
  .strict()
  .refine((v) => v.model !== undefined || v.saes !== undefined, { message: 'give the new model folder, the new SAE folder, or both' });
const runIdInput = z.object({ id: runId }).strict();
const runListInput = z
  .object({
    limit: z.number().int().min(1).max(10_000).optional(),
    summarySha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** Only runs of this kind; absent: every kind. */
    kind: z.enum(['analysis', 'evaluation', 'finetune', 'sweep']).optional(),
  })
  .strict();
const runRenameInput = z.object({ id: runId, name: displayName }).strict();

const corpusBrowseInput = z
  .object({
    languages: languageList,
    corpus: z.union([z.literal('udhr'), localPath]).optional(),
    offset: z.number().int().min(0).max(10_000_000).optional(),
    limit: z.number().int().min(1).max(100).optional(),
    query: z.string().max(200).optional(),
  })
  .strict();

/** Methods served by the backend (utility process / worker). */
export const backendContract = {
  'app.info': method<typeof empty, AppInfo>(empty),
  'system.capabilities': method<typeof empty, Capabilities>(empty),
  'languages.list': method<typeof empty, Language[]>(empty),
  'languages.setTier': method<z.ZodObject<{ code: typeof languageCode; tier: typeof tier }>, Language>(
    z.object({ code: languageCode, tier }).strict(),
  ),
  'languages.add': method<
    z.ZodObject<{ code: typeof languageCode; tier: z.ZodOptional<typeof tier> }>,
    Language
  >(z.object({ code: languageCode, tier: tier.optional() }).strict()),
  'languages.remove': method<z.ZodObject<{ code: typeof languageCode }>, { removed: boolean; /** registry code */ code: string }>(
    z.object({ code: languageCode }).strict(),
  ),
  'corpus.languages': method<typeof empty, CorpusLanguage[]>(empty),
  'corpus.preview': method<
    z.ZodObject<{ languages: typeof languageList; limit: z.ZodOptional<z.ZodNumber> }>,
    CorpusPreview
  >(z.object({ languages: languageList, limit: z.number().int().min(1).max(1000).optional() }).strict()),
  // One page of the bundled UDHR or of a corpus file (read and checked as the analysis reads it, so
  // a bad file is the same typed error here as in a run); `query` matches segment ids and texts.
  'corpus.browse': method<typeof corpusBrowseInput, CorpusPage>(corpusBrowseInput),
  'tokenizer.inspect': method<z.ZodObject<{ path: z.ZodOptional<typeof localPath> }>, TokenizerInfo>(
    z.object({ path: localPath.optional() }).strict(),
  ),
  // `model`: measure that model folder's tokenizer.json; `tokenizer`: a tokenizer named on purpose;
  // neither: the bundled Gemma tokenizer (the result's tokenizerOrigin says which).
  'fertility.run': method<
    z.ZodObject<{
      languages: typeof languageList;
      tokenizer: z.ZodOptional<typeof localPath>;
      model: z.ZodOptional<typeof localPath>;
      jobId: typeof jobId;
    }>,
    FertilityResult
  >(z.object({ languages: languageList, tokenizer: localPath.optional(), model: localPath.optional(), jobId }).strict()),
  'fertility.export': method<
    z.ZodObject<{
      languages: typeof languageList;
      tokenizer: z.ZodOptional<typeof localPath>;
      model: z.ZodOptional<typeof localPath>;
      outDir: typeof localPath;
      jobId: typeof jobId;
    }>,
    FertilityExport
  >(
    z
      .object({ languages: languageList, tokenizer: localPath.optional(), model: localPath.optional(), outDir: localPath, jobId })
      .strict(),
  ),
  'model.inspect': method<z.ZodObject<{ path: typeof localPath }>, ModelInfo>(z.object({ path: localPath }).strict()),
  'model.activations': method<typeof activationsInput, ActivationsExport>(activationsInput),
  'model.makeRandom': method<typeof makeRandomInput, RandomModelResult>(makeRandomInput),
  'sae.inspect': method<z.ZodObject<{ path: typeof localPath }>, SaeInfo[]>(z.object({ path: localPath }).strict()),
  'sae.makeRandom': method<typeof randomSaesInput, RandomSaesResult>(randomSaesInput),
  'analysis.tokens': method<typeof tokensInput, TokenActivations>(tokensInput),
  'analysis.run': method<typeof analysisRunInput, DisparitySummary>(analysisRunInput),
  'analysis.export': method<typeof analysisExportInput, AnalysisExport>(analysisExportInput),
  // Projects: `last` is the project opened most recently (the bundled demo's on a fresh database);
  // `open` checks the paths it names (ProjectStatus) and marks it opened; `save` names the revision
  // it was based on (CONFLICT when another window saved since).
  'projects.list': method<typeof empty, ProjectListItem[]>(empty),
  'projects.last': method<typeof empty, ProjectListItem>(empty),
  'projects.open': method<typeof projectIdInput, OpenedProject>(projectIdInput),
  'projects.create': method<typeof projectCreateInput, Project>(projectCreateInput),
  'projects.save': method<typeof projectSaveInput, { revision: number; updatedAt: string }>(projectSaveInput),
  'projects.rename': method<typeof projectRenameInput, ProjectListItem>(projectRenameInput),
  'projects.duplicate': method<typeof projectDuplicateInput, ProjectListItem>(projectDuplicateInput),
  'projects.delete': method<typeof projectIdInput, { deleted: true }>(projectIdInput),
  'projects.relocate': method<typeof projectRelocateInput, OpenedProject>(projectRelocateInput),
  // Run history: every finished analysis.run / analysis.export is a stored run; `get` returns its
  // stored summary (never recomputed).
  'runs.list': method<typeof runListInput, RunListItem[]>(runListInput),
  'runs.get': method<typeof runIdInput, RunRecord>(runIdInput),
  'runs.rename': method<typeof runRenameInput, RunListItem>(runRenameInput),
  'runs.delete': method<typeof runIdInput, { deleted: true }>(runIdInput),
  'demo.info': method<typeof empty, DemoInfo>(empty),
  'demo.build': method<typeof demoBuildInput, Record<string, unknown>>(demoBuildInput),
  // Activation-aware LoRA fine-tuning: `run` trains in a run folder (resumable) and writes the
  // adapter and the before/after report there; `status` reads a run folder back (the monitor's
  // state after a reload); `merge` writes base + adapter as one model folder in the base's dtype.
  'finetune.run': method<typeof finetuneRunInput, FinetuneResult>(finetuneRunInput),
  'finetune.status': method<z.ZodObject<{ dir: typeof localPath }>, FinetuneStatus>(z.object({ dir: localPath }).strict()),
  'model.merge': method<typeof mergeInput, { outDir: string; files: string[] }>(mergeInput),
  // Multiple-choice benchmarks scored as lm-evaluation-harness scores them, base and adapter.
  'dataset.import': method<typeof datasetImportInput, DatasetImportResult>(datasetImportInput),
  'dataset.translate': method<typeof datasetTranslateInput, DatasetTranslateResult>(datasetTranslateInput),
  'translate.run': method<typeof translateRunInput, TranslateResult>(translateRunInput),
  'eval.run': method<typeof evalRunInput, EvalResult>(evalRunInput),
  // Across languages, per layer: a disparity measure against accuracy (Pearson, Spearman, bootstrap
  // intervals over languages); with outDir the CSVs and charts are written there.
  'eval.correlate': method<typeof correlateInput, CorrelationResult>(correlateInput),
  // A grid of fine-tunes (α × adapted layers × loss space), each evaluated when evalData is given,
  // and one comparison; resumable (finished points are read back, an interrupted one resumes).
  'sweep.run': method<typeof sweepRunInput, SweepResult>(sweepRunInput),
  'study.run': method<typeof studyRunInput, StudyResult>(studyRunInput),
  // English phrases per feature from a downloaded Neuronpedia export (>= threshold of the feature's
  // maximum, cut around the peak, detokenised with the model's tokenizer) into a phrases JSONL.
  'phrases.neuronpedia': method<typeof neuronpediaPhrasesInput, NeuronpediaPhrasesResult>(neuronpediaPhrasesInput),
  // `cancelled`: this call stopped it; `state`: the job's state when the call arrived (a job that
  // already ended answers {cancelled: false, state}); an id never issued is JOB_NOT_FOUND.
  'jobs.cancel': method<z.ZodObject<{ jobId: z.ZodString }>, { cancelled: boolean; state: JobState }>(
    z.object({ jobId: z.string().min(1).max(64) }).strict(),
  ),
  /** Running jobs, then the last finished ones (bounded), newest first. */
  'jobs.list': method<typeof empty, JobInfo[]>(empty),
  /** Replays the job's latest progress, streams its events to this connection, and settles as the
   * job does (its value, or its typed error); a job that already ended answers with its stored outcome. */
  'jobs.attach': method<z.ZodObject<{ jobId: z.ZodString }>, unknown>(z.object({ jobId: z.string().min(1).max(64) }).strict()),
};

/** Methods served by the desktop shell (Electron main): native dialogs. The harness answers
 * them with NOT_AVAILABLE and the UI falls back to a path field. */
export const shellContract = {
  'dialog.openFolder': method<z.ZodObject<{ title: z.ZodOptional<z.ZodString> }>, { path: string | null }>(
    z.object({ title: z.string().max(200).optional() }).strict(),
  ),
};

export const contract = { ...backendContract, ...shellContract };

export type BackendMethod = keyof typeof backendContract;
export type ShellMethod = keyof typeof shellContract;
export type Method = keyof typeof contract;
export type Input<M extends Method> = z.input<(typeof contract)[M]['input']>;
export type ParsedInput<M extends Method> = z.output<(typeof contract)[M]['input']>;
export type Output<M extends Method> = (typeof contract)[M]['output'];

/** Long-running methods: they accept a client-chosen `jobId`, report progress events under it and
 * can be cancelled with `jobs.cancel({jobId})`. They run as backend jobs (listed by `jobs.list`,
 * outliving their connection); a request identical to a running one (same method, same argument
 * but for jobId) joins it and gets the same progress and result. */
export const jobMethods: readonly BackendMethod[] = ['fertility.run', 'fertility.export', 'model.activations', 'model.makeRandom', 'sae.makeRandom', 'analysis.run', 'analysis.export', 'demo.build', 'finetune.run', 'model.merge', 'eval.run', 'sweep.run', 'study.run', 'dataset.import', 'dataset.translate', 'translate.run', 'phrases.neuronpedia'];

export const backendMethods = Object.keys(backendContract) as BackendMethod[];
export const shellMethods = Object.keys(shellContract) as ShellMethod[];
export const methods = Object.keys(contract) as Method[];

export function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(contract, name);
}
