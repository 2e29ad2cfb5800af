// `linguascope <command>`: the headless front door over the same backend (a worker thread).
// User errors exit 2 with one line naming the problem; internal errors exit 1.
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { createApi, type Api } from '../shared/client';
import { ApiError } from '../shared/errors';
import { PAPER_LANGUAGES } from '../main/data/languages';
import { startBackendWorker } from '../main/backend/worker-host';
import { resolveDbPath } from '../main/store/paths';
import { tier as tierSchema } from '../shared/contract';
import type { AnalysisExport, DisparitySummary, ModelInfo } from '../shared/dto';

const HELP = `LinguaScope — cross-linguistic SAE activation workbench (headless)

Usage: linguascope <command> [options]

Commands:
  demo [--out DIR]                          the main job: the disparity analysis of the ten paper languages on the
                                            bundled demo model and SAEs; writes a report and prints where
  build-demo [--out DIR] [--steps N] [--resume]
                                            train the bundled demo (model + SAEs) from scratch (npm run build:demo)
  fertility --languages en,hi,ml --out DIR  tokenizer fertility on the aligned UDHR corpus
            [--tokenizer DIR|FILE]          (default: the bundled Gemma tokenizer)
  languages [list]                          the language registry
  languages add CODE [--tier TIER]          add a language of the bundled corpus (tier: high|medium-low|reference)
  languages set-tier CODE TIER              change a language's resource tier
  corpus [--languages en,hi]                aligned segment counts of the bundled corpus
  system                                    what this machine can run: CPU, memory, execution providers
  model --model DIR                         a local model folder: architecture, layers, parameters, dtype, memory
  activations --model DIR (--text "..." | --token-ids 2,651,...) --out FILE.safetensors
              [--layers all|0,5,12] [--hooks resid_post,resid_mid,resid_pre] [--logits] [--no-bos]
                                            residual-stream activations (one [tokens, d_model] float32 tensor per hook)
  analyze --model DIR --saes DIR --languages en,zh,...,hi --out DIR [--corpus udhr|FILE.tsv] [--limit N]
          [--reduction mean|max] [--features english-active|all] [--bootstrap N] [--include-bos]
          [--top-features N] [--keep-features N]
                                            the disparity analysis: summary.json, report.html, CSVs, SVG/PNG charts
  make-random-saes --model DIR --width N --out DIR [--layers all|0,5] [--architecture jumprelu|standard|topk] [--seed N]
                                            random SAEs with thresholds calibrated to a realistic L0
  make-random-model --arch gemma2 --preset gemma-2-2b|tiny --dtype bf16|f32|f16 --out DIR [--seed N]
                                            a config-correct model folder with deterministic random weights

Common options:
  --db PATH    the SQLite database (default: $LINGUASCOPE_DB, else the app-data folder)
  --json       print results as JSON
  -h, --help   this text
`;

class UsageError extends Error {}

const PAPER_CODES = PAPER_LANGUAGES.map((l) => l.code);

function splitList(value: string | undefined, flag: string): string[] {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} needs a comma-separated list, e.g. ${flag} en,hi,ml`);
  return items;
}

function progressPrinter(api: Api): () => void {
  if (!process.stderr.isTTY) return () => {};
  const stop = api.on('progress', (p) => process.stderr.write(`\r${p.stage}: ${p.done}/${p.total}   `));
  return () => {
    stop();
    process.stderr.write('\r\x1b[K');
  };
}

function fixed(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

async function runFertility(api: Api, languages: string[], outDir: string, tokenizer: string | undefined, json: boolean): Promise<void> {
  const done = progressPrinter(api);
  const { files, result } = await api.fertility.export({ languages, outDir: resolve(outDir), tokenizer }).finally(done);
  if (json) {
    console.log(JSON.stringify({ files, result }, null, 2));
    return;
  }
  console.log(`Tokenizer fertility on ${result.corpus.alignedSegments} aligned UDHR segments (tokenizer ${result.tokenizer.source}, sha256 ${result.tokenizer.sha256.slice(0, 12)})`);
  console.log('language  tier         tokens/word  tokens/char  ratio_to_en');
  for (const r of result.rows) {
    console.log(`${r.language.padEnd(9)} ${r.tier.padEnd(12)} ${fixed(r.tokens_per_word).padStart(11)}  ${fixed(r.tokens_per_char).padStart(11)}  ${fixed(r.ratio_to_en).padStart(11)}`);
  }
  if (result.fromCache.length) console.log(`served from the cache: ${result.fromCache.join(', ')}`);
  console.log('wrote:');
  for (const f of files) console.log(`  ${f}`);
}

function parseIntList(value: string, flag: string): number[] {
  const items = splitList(value, flag);
  return items.map((item) => {
    if (!/^\d+$/.test(item)) throw new UsageError(`${flag}: "${item}" is not a non-negative integer`);
    return Number(item);
  });
}

function parseHook(kind: string): 'resid_pre' | 'resid_mid' | 'resid_post' {
  const k = kind.replace(/^hook_/, '');
  if (k !== 'resid_pre' && k !== 'resid_mid' && k !== 'resid_post') throw new UsageError(`--hooks: "${kind}" is not one of resid_pre, resid_mid, resid_post`);
  return k;
}

function printAnalysisExport(result: AnalysisExport, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  printAnalysis(result.summary);
  console.log(`report: ${join(result.outDir, 'report.html')}`);
}

function printAnalysis(s: DisparitySummary): void {
  const pct = (v: number | null) => (v === null ? '   n/a' : `${v.toFixed(1).padStart(6)}`);
  console.log(`${s.model.architecture}, ${s.saes.length} SAEs, ${s.languages.length} languages, ${s.segments} aligned segments (${s.corpus.source})`);
  console.log(`settings: reduction ${s.settings.reduction}, features ${s.settings.features}, BOS ${s.settings.includeBos ? 'included' : 'excluded'}, ${s.settings.keepFeatures} features kept per phrase and layer for the top-feature lists`);
  console.log(`gap(l) = ${s.formulas.gap_percent.replace(/^gap\(l\) = /, '')}`);
  console.log('layer  gap %   ' + s.languages.map((l) => l.code.padStart(8)).join(''));
  s.layers.forEach((layer, i) => {
    console.log(`${String(layer).padStart(5)} ${pct(s.gap_percent[i])}   ` + s.languages.map((l) => fixed(s.mean_activation[l.code][i] ?? NaN, 4).padStart(8)).join(''));
  });
  const positive = s.gap_percent.filter((g) => g !== null && g > 0).length;
  console.log(`gap > 0 in ${positive} of ${s.layers.length} layers`);
  for (const w of s.fidelity_warnings.slice(0, 5)) console.log(`warning: ${w.message}`);
  if (s.corpus.incomplete?.length) console.log(`left out: ${s.corpus.incomplete.length} corpus segments without a text in every chosen language (${s.corpus.incomplete.slice(0, 10).join(', ')}${s.corpus.incomplete.length > 10 ? ', …' : ''})`);
  console.log(`cache: ${s.cache.phrases_cached} phrases cached, ${s.cache.phrases_computed} computed, ${s.cache.bytes_per_phrase} bytes per phrase; ${s.cache.seconds} s`);
}

function printModel(info: ModelInfo): void {
  const gib = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);
  console.log(`${info.architecture}: ${info.layers} layers, d_model ${info.dModel}, ${info.heads} heads / ${info.kvHeads} KV heads, vocab ${info.vocabSize}`);
  console.log(`${(info.parameters / 1e6).toFixed(1)}M parameters, stored ${info.dtype} in ${info.files} file(s) (${gib(info.weightBytes)}); a run needs about ${gib(info.memoryBytes)}`);
  console.log(`tokenizer: ${info.tokenizer ?? 'none (use --token-ids)'}; context ${info.maxPositions}; ${info.slidingWindowLayers} sliding-window layers`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      languages: { type: 'string' },
      out: { type: 'string' },
      tokenizer: { type: 'string' },
      tier: { type: 'string' },
      model: { type: 'string' },
      text: { type: 'string' },
      'token-ids': { type: 'string' },
      layers: { type: 'string' },
      hooks: { type: 'string' },
      logits: { type: 'boolean', default: false },
      'no-bos': { type: 'boolean', default: false },
      arch: { type: 'string' },
      preset: { type: 'string' },
      dtype: { type: 'string' },
      seed: { type: 'string' },
      saes: { type: 'string' },
      corpus: { type: 'string' },
      limit: { type: 'string' },
      reduction: { type: 'string' },
      features: { type: 'string' },
      bootstrap: { type: 'string' },
      'top-features': { type: 'string' },
      'keep-features': { type: 'string' },
      'include-bos': { type: 'boolean', default: false },
      resume: { type: 'boolean', default: false },
      steps: { type: 'string' },
      width: { type: 'string' },
      architecture: { type: 'string' },
      db: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  const known = ['build-demo', 'demo', 'fertility', 'languages', 'corpus', 'system', 'model', 'activations', 'make-random-model', 'analyze', 'make-random-saes'];
  if (!known.includes(command)) throw new UsageError(`unknown command "${command}" (commands: ${known.join(', ')})`);
  if (command === 'fertility' && !values.out) throw new UsageError('fertility needs --out DIR');
  const languages = command === 'fertility' ? splitList(values.languages, '--languages') : undefined;

  if (command === 'analyze' && (!values.saes || !values.out || !values.languages)) throw new UsageError('analyze needs --model DIR, --saes DIR, --languages en,... and --out DIR');
  if (command === 'make-random-saes' && (!values.width || !values.out)) throw new UsageError('make-random-saes needs --model DIR, --width N and --out DIR');
  if (values.reduction !== undefined && !['mean', 'max'].includes(values.reduction)) throw new UsageError('--reduction must be mean or max');
  if (values.features !== undefined && !['english-active', 'all'].includes(values.features)) throw new UsageError('--features must be english-active or all');
  if (values.architecture !== undefined && !['jumprelu', 'standard', 'topk'].includes(values.architecture)) throw new UsageError('--architecture must be jumprelu, standard or topk');
  if (['model', 'activations', 'analyze', 'make-random-saes'].includes(command) && !values.model) throw new UsageError(`${command} needs --model DIR`);
  if (command === 'activations') {
    if (!values.out) throw new UsageError('activations needs --out FILE.safetensors');
    if ((values.text === undefined) === (values['token-ids'] === undefined)) throw new UsageError('activations needs exactly one of --text "..." or --token-ids 2,651,...');
  }
  if (command === 'make-random-model' && (!values.arch || !values.preset || !values.dtype || !values.out)) {
    throw new UsageError('make-random-model needs --arch, --preset, --dtype and --out');
  }
  const worker = await startBackendWorker(resolveDbPath(values.db));
  const api = createApi(worker.open());
  try {
    switch (command) {
      case 'demo': {
        const demo = await api.demo.info({});
        if (!demo.ok) throw new ApiError('WEIGHTS_NOT_FOUND', demo.problem ?? 'the bundled demo is missing; rebuild it with `npm run build:demo`');
        const out = resolve(values.out ?? 'linguascope-report');
        const done = progressPrinter(api);
        const result = await api.analysis
          .export({ model: demo.model, saes: demo.saes, languages: demo.languages, corpus: 'udhr', limit: demo.limit, settings: demo.settings, outDir: out })
          .finally(done);
        if (!values.json) console.log(`bundled demo (${demo.dir}); ${demo.settingsReason}`);
        printAnalysisExport(result, values.json);
        break;
      }
      case 'build-demo': {
        const stop = api.on('log', (l) => process.stderr.write(`${l.message}\n`));
        const manifest = await api.demo
          .build({ out: values.out ? resolve(values.out) : undefined, resume: values.resume, steps: values.steps !== undefined ? parseIntList(values.steps, '--steps')[0] : undefined })
          .finally(stop);
        console.log(JSON.stringify(manifest, null, 2));
        break;
      }
      case 'fertility':
        await runFertility(api, languages!, values.out!, values.tokenizer, values.json);
        break;
      case 'languages': {
        const [action = 'list', code, tierArg] = rest;
        if (action === 'add') {
          if (!code) throw new UsageError('languages add needs a language code');
          const parsedTier = tierSchema.safeParse(values.tier);
          if (values.tier !== undefined && !parsedTier.success) throw new UsageError('--tier must be one of high, medium-low, reference');
          const tier = parsedTier.success ? parsedTier.data : undefined;
          const added = await api.languages.add({ code, tier });
          console.log(values.json ? JSON.stringify(added) : `added ${added.code} (${added.name}, ${added.script}, ${added.tier})`);
        } else if (action === 'set-tier') {
          const parsed = tierSchema.safeParse(tierArg);
          if (!code || !parsed.success) throw new UsageError('usage: languages set-tier CODE high|medium-low|reference');
          const changed = await api.languages.setTier({ code, tier: parsed.data });
          console.log(values.json ? JSON.stringify(changed) : `${changed.code}: ${changed.tier}`);
        } else if (action === 'list') {
          const list = await api.languages.list({});
          if (values.json) console.log(JSON.stringify(list, null, 2));
          else for (const l of list) console.log(`${l.code.padEnd(10)} ${l.tier.padEnd(11)} ${l.script.padEnd(11)} ${l.name}`);
        } else {
          throw new UsageError(`unknown languages action "${action}" (list, add, set-tier)`);
        }
        break;
      }
      case 'system': {
        const caps = await api.system.capabilities({});
        if (values.json) {
          console.log(JSON.stringify(caps, null, 2));
          break;
        }
        console.log(`${caps.platform}, ${caps.cpuModel}, ${caps.logicalCores} logical cores, ${caps.memoryFreeMb} of ${caps.memoryTotalMb} MiB free, onnxruntime ${caps.onnxruntime}`);
        for (const p of caps.providers) console.log(`${p.available ? 'yes' : 'no '} ${p.name.padEnd(7)} ${p.detail}`);
        console.log(`"auto" runs on: ${caps.preferred}`);
        break;
      }
      case 'model': {
        const info = await api.model.inspect({ path: resolve(values.model!) });
        if (values.json) console.log(JSON.stringify(info, null, 2));
        else printModel(info);
        break;
      }
      case 'activations': {
        const done = progressPrinter(api);
        const result = await api.model
          .activations({
            model: resolve(values.model!),
            text: values.text,
            tokenIds: values['token-ids'] !== undefined ? parseIntList(values['token-ids'], '--token-ids') : undefined,
            bos: !values['no-bos'],
            layers: values.layers === undefined || values.layers === 'all' ? 'all' : parseIntList(values.layers, '--layers'),
            hooks: values.hooks !== undefined ? (splitList(values.hooks, '--hooks').map(parseHook)) : undefined,
            logits: values.logits,
            out: resolve(values.out!),
          })
          .finally(done);
        if (values.json) console.log(JSON.stringify(result, null, 2));
        else {
          console.log(`${result.tokens.length} tokens through ${result.model.architecture} (${result.model.layers} layers) on ${result.provider}`);
          console.log(`wrote ${result.tensors.length} tensors to ${result.file}`);
          for (const t of result.tensors.slice(0, 4)) console.log(`  ${t.name} [${t.shape.join(', ')}]`);
          if (result.tensors.length > 4) console.log(`  ... ${result.tensors.length - 4} more`);
        }
        break;
      }
      case 'analyze': {
        const done = progressPrinter(api);
        const result = await api.analysis
          .export({
            model: resolve(values.model!),
            saes: resolve(values.saes!),
            languages: splitList(values.languages, '--languages'),
            corpus: values.corpus === undefined || values.corpus === 'udhr' ? 'udhr' : resolve(values.corpus),
            limit: values.limit !== undefined ? parseIntList(values.limit, '--limit')[0] : undefined,
            settings: {
              ...(values.reduction ? { reduction: values.reduction as 'mean' | 'max' } : {}),
              ...(values.features ? { features: values.features as 'english-active' | 'all' } : {}),
              ...(values.bootstrap !== undefined ? { bootstrap: parseIntList(values.bootstrap, '--bootstrap')[0] } : {}),
              ...(values['include-bos'] ? { includeBos: true } : {}),
              ...(values['top-features'] !== undefined ? { topFeatures: parseIntList(values['top-features'], '--top-features')[0] } : {}),
              ...(values['keep-features'] !== undefined ? { keepFeatures: parseIntList(values['keep-features'], '--keep-features')[0] } : {}),
            },
            outDir: resolve(values.out!),
          })
          .finally(done);
        printAnalysisExport(result, values.json);
        break;
      }
      case 'make-random-saes': {
        const done = progressPrinter(api);
        const made = await api.sae
          .makeRandom({
            model: resolve(values.model!),
            width: parseIntList(values.width!, '--width')[0],
            out: resolve(values.out!),
            layers: values.layers === undefined || values.layers === 'all' ? 'all' : parseIntList(values.layers, '--layers'),
            architecture: values.architecture as 'jumprelu' | undefined,
            seed: values.seed !== undefined ? parseIntList(values.seed, '--seed')[0] : undefined,
          })
          .finally(done);
        if (values.json) console.log(JSON.stringify(made, null, 2));
        else {
          console.log(`wrote ${made.saes.length} ${made.saes[0]?.architecture ?? ''} SAEs of width ${made.saes[0]?.dSae ?? ''} to ${made.outDir}`);
          console.log(`average L0 on the calibration sample: ${Object.entries(made.l0).map(([L, v]) => `L${L} ${v}`).join(', ')}`);
        }
        break;
      }
      case 'make-random-model': {
        const arch = values.arch!;
        const dtype = values.dtype!;
        if (!['gemma2', 'llama', 'mistral', 'qwen2'].includes(arch)) throw new UsageError('--arch must be gemma2, llama, mistral or qwen2');
        if (!['f32', 'bf16', 'f16'].includes(dtype)) throw new UsageError('--dtype must be f32, bf16 or f16');
        const done = progressPrinter(api);
        const made = await api.model
          .makeRandom({
            arch: arch as 'gemma2',
            preset: values.preset!,
            dtype: dtype as 'f32',
            out: resolve(values.out!),
            seed: values.seed !== undefined ? parseIntList(values.seed, '--seed')[0] : undefined,
          })
          .finally(done);
        if (values.json) console.log(JSON.stringify(made, null, 2));
        else {
          console.log(`wrote ${made.path}`);
          printModel(made.info);
        }
        break;
      }
      case 'corpus': {
        const codes = values.languages ? splitList(values.languages, '--languages') : PAPER_CODES;
        const preview = await api.corpus.preview({ languages: codes, limit: 1 });
        if (values.json) console.log(JSON.stringify(preview, null, 2));
        else {
          console.log(`UDHR ${preview.corpus.version}: ${preview.corpus.alignedSegments} aligned segments for ${preview.languages.join(', ')}`);
          if (preview.corpus.mergedArticles.length) console.log(`kept whole (paragraphs differ): ${preview.corpus.mergedArticles.join(', ')}`);
        }
        break;
      }
    }
    return 0;
  } finally {
    api.dispose();
    await worker.terminate();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof ApiError && error.code !== 'INTERNAL')) {
      process.stderr.write(`linguascope: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof Error && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`linguascope: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`linguascope: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
