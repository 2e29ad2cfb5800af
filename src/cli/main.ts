// `linguascope <command>`: the headless front door over the same backend (a worker thread).
// User errors exit 2 with one line naming the problem; internal errors exit 1.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { createApi, type Api } from '../shared/client';
import { ApiError } from '../shared/errors';
import { PAPER_LANGUAGES } from '../main/data/languages';
import { startBackendWorker } from '../main/backend/worker-host';
import { resolveDbPath } from '../main/store/paths';
import { tier as tierSchema } from '../shared/contract';

const HELP = `LinguaScope — cross-linguistic SAE activation workbench (headless)

Usage: linguascope <command> [options]

Commands:
  demo [--out DIR]                          run the main job on the bundled demo and write a report
  fertility --languages en,hi,ml --out DIR  tokenizer fertility on the aligned UDHR corpus
            [--tokenizer DIR|FILE]          (default: the bundled Gemma tokenizer)
  languages [list]                          the language registry
  languages add CODE [--tier TIER]          add a language of the bundled corpus (tier: high|medium-low|reference)
  languages set-tier CODE TIER              change a language's resource tier
  corpus [--languages en,hi]                aligned segment counts of the bundled corpus
  system                                    what this machine can run: CPU, memory, execution providers

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

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      languages: { type: 'string' },
      out: { type: 'string' },
      tokenizer: { type: 'string' },
      tier: { type: 'string' },
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
  const known = ['demo', 'fertility', 'languages', 'corpus', 'system'];
  if (!known.includes(command)) throw new UsageError(`unknown command "${command}" (commands: ${known.join(', ')})`);
  if (command === 'fertility' && !values.out) throw new UsageError('fertility needs --out DIR');
  const languages = command === 'fertility' ? splitList(values.languages, '--languages') : undefined;

  const worker = await startBackendWorker(resolveDbPath(values.db));
  const api = createApi(worker.open());
  try {
    switch (command) {
      case 'demo': {
        const out = resolve(values.out ?? 'linguascope-report');
        await runFertility(api, PAPER_CODES, out, values.tokenizer, values.json);
        if (!values.json) console.log(`report: ${resolve(out, 'report.html')}`);
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
