// The backend: the store, the services and the handler map served by every front door.
import { dirname, join, resolve } from 'node:path';
import { LanguageRegistry } from '../data/registry';
import { UDHR_VERSION } from '../data/udhr';
import { openDatabase, type Db } from '../store/db';
import { FertilityRepo } from '../store/fertility-repo';
import { LanguagesRepo } from '../store/languages-repo';
import { RunsRepo } from '../store/runs-repo';
import { FertilityService } from './fertility-service';
import type { HandlerMap } from './handler';
import { fertilityHandlers } from './handlers/fertility';
import { corpusHandlers } from './handlers/corpus';
import { languageHandlers } from './handlers/languages';
import { JobRegistry } from './jobs';
import { appVersion } from '../package-root';
import { RuntimeHost } from '../engine/runtime-host';
import { capabilities } from '../engine/capabilities';
import { ModelService } from './model-service';
import { AnalysisService } from './analysis-service';
import { analysisHandlers } from './handlers/analysis';
import { demoHandlers } from './handlers/demo';
import { projectHandlers } from './handlers/projects';
import { runHandlers } from './handlers/runs';
import { ProjectsRepo } from '../store/projects-repo';
import { jobHandlers } from './handlers/jobs';
import { FileHashRepo } from '../store/file-hash-repo';
import { SaeCacheRepo } from '../store/sae-cache-repo';
import { TokenizerHost } from '../io/tokenizer-host';
import { FinetuneService } from './finetune-service';
import { finetuneHandlers } from './handlers/finetune';
import { EvalService } from './eval-service';
import { evalHandlers } from './handlers/eval';
import { EvalCacheRepo } from '../store/eval-cache-repo';
import { datasetHandlers } from './handlers/dataset';
import { translateHandlers } from './handlers/translate';
import { TranslateService } from './translate-service';
import { DatasetTranslateService } from './dataset-translate-service';
import { TranslationCacheRepo } from '../store/translation-cache-repo';
import { correlateHandlers } from './handlers/eval-correlate';
import { sweepHandlers } from './handlers/sweep';
import { StudyService } from './study-service';
import { studyHandlers } from './handlers/study';
import { SweepService } from './sweep-service';
import { PhrasesService } from './phrases-service';
import { phrasesHandlers } from './handlers/phrases';

export interface BackendOptions {
  dbPath: string;
}

export interface Backend {
  handlers: HandlerMap;
  jobs: JobRegistry;
  db: Db;
  /** The compute worker (started on first use). */
  runtime: RuntimeHost;
  /** The tokenizer worker (started on first use): user-supplied tokenizers never run on this thread. */
  tokenizers: TokenizerHost;
  close(): Promise<void>;
}

export function createBackend(options: BackendOptions): Backend {
  const db = openDatabase(options.dbPath);
  const jobs = new JobRegistry();
  const registry = new LanguageRegistry(new LanguagesRepo(db));
  const runtime = new RuntimeHost();
  const tokenizers = new TokenizerHost();
  const models = new ModelService(runtime, tokenizers);
  const fertility = new FertilityService(registry, new FertilityRepo(db), new RunsRepo(db), tokenizers);
  // A fast run's int8 weights are kept beside the database (the app's own data), not with a file database in memory.
  const quantCache = options.dbPath === ':memory:' ? undefined : join(dirname(resolve(options.dbPath)), 'quant-cache');
  const analysis = new AnalysisService(registry, new SaeCacheRepo(db), new RunsRepo(db), runtime, new FileHashRepo(db), tokenizers, quantCache);
  const finetune = new FinetuneService(analysis, runtime, new RunsRepo(db));
  const translator = new TranslateService(runtime, new FileHashRepo(db), new TranslationCacheRepo(db));
  const evals = new EvalService(runtime, tokenizers, new EvalCacheRepo(db), new FileHashRepo(db));
  const base: Omit<HandlerMap, 'study.run'> = {
    'app.info': async () => ({
      version: appVersion(),
      dbPath: options.dbPath,
      platform: `${process.platform}-${process.arch}`,
      runtime: `node ${process.versions.node}`,
      corpusVersion: `udhr ${UDHR_VERSION}`,
    }),
    'system.capabilities': async () => capabilities(runtime),
    ...languageHandlers(registry),
    ...corpusHandlers(registry),
    ...datasetHandlers(registry, new DatasetTranslateService(registry, translator)),
    ...fertilityHandlers(fertility, tokenizers),
    'model.inspect': async ({ path }) => models.inspect(path),
    'model.activations': async (arg, ctx) => models.activations(arg, ctx),
    'model.makeRandom': async (arg, ctx) => models.makeRandom(arg, ctx),
    ...analysisHandlers(analysis, runtime, tokenizers, new RunsRepo(db)),
    ...finetuneHandlers(finetune, new RunsRepo(db)),
    ...evalHandlers(evals, new RunsRepo(db)),
    ...correlateHandlers(new RunsRepo(db)),
    ...sweepHandlers(new SweepService(finetune, evals), new RunsRepo(db)),
    ...phrasesHandlers(new PhrasesService(tokenizers, new RunsRepo(db))),
    ...translateHandlers(translator),
    ...demoHandlers(runtime),
    ...projectHandlers(new ProjectsRepo(db), registry),
    ...runHandlers(new RunsRepo(db)),
    ...jobHandlers(jobs),
  };
  // The study composes the other steps' handlers, so each stage is stored and checked as its own.
  const handlers: HandlerMap = { ...base, ...studyHandlers(new StudyService(base, analysis), new RunsRepo(db), { projects: new ProjectsRepo(db), runs: new RunsRepo(db), registry }) };
  return {
    handlers,
    jobs,
    db,
    runtime,
    tokenizers,
    close: async () => {
      db.close();
      await tokenizers.close();
      return runtime.close();
    },
  };
}
