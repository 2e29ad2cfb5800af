// `npm run bench -- <name>`: benchmarks print JSON lines, the last one a summary object.
// Built by electron-vite with the product's code (out/main/bench.js); never part of `npm test`.
import { benchAnalyze } from './analyze';
import { benchEngine, ZERO_COPY_CHILD, zeroCopyChild } from './engine';
import { benchEval, EVAL_CHILD, evalChild } from './eval';
import { benchFertility } from './fertility';
import { benchFinetune, FINETUNE_CHILD, finetuneChild } from './finetune';
import { benchForward, FORWARD_CHILD, forwardChild } from './forward';
import { gpuCheck } from './gpu/check';
import { benchTranslate } from './translate';

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  analyze: benchAnalyze, // its child processes: `analyze __child <mode> ...` (see bench/analyze.ts)
  engine: benchEngine,
  eval: benchEval, // options after the name: --items, --model full|tiny, --batch-size, --no-peer (see bench/eval.ts)
  fertility: benchFertility,
  finetune: benchFinetune, // options after the name: --layers, --adapt, --steps, --no-peer (see bench/finetune.ts)
  forward: benchForward, // options after the name: --repeats, --no-fast, --no-peer, --no-bf16 (see bench/forward.ts)
  translate: benchTranslate, // options after the name: --sentences, --batch, --new-tokens, --no-peer (see bench/translate.ts)
};

const name = process.argv[2];
if (name === ZERO_COPY_CHILD) {
  // A fresh process for one memory measurement (see bench/engine.ts).
  await zeroCopyChild(process.argv[3], process.argv[4]);
  process.exit(0);
}
if (name === FORWARD_CHILD) {
  // A fresh process for the forward timings and their peak memory (see bench/forward.ts).
  await forwardChild(process.argv[3], process.argv[4], process.argv[5]);
  process.exit(0);
}
if (name === FINETUNE_CHILD) {
  // A fresh process for one fine-tune measurement (see bench/finetune.ts).
  await finetuneChild(process.argv[3], process.argv.slice(4));
  process.exit(0);
}
if (name === EVAL_CHILD) {
  // A fresh process for our eval.run measurements (see bench/eval.ts).
  await evalChild(process.argv[3]);
  process.exit(0);
}
if (name === 'gpu') {
  // The GPU check of issue 17 (bench/gpu/check.ts): its own exit codes and JSON file.
  process.exit(await gpuCheck(process.argv.slice(3)));
}
const bench = name ? BENCHES[name] : undefined;
if (!bench) {
  console.error(`usage: npm run bench -- <${[...Object.keys(BENCHES), 'gpu'].join('|')}>`);
  process.exit(2);
}
bench().then(
  (summary) => console.log(JSON.stringify({ bench: name, summary: true, ...summary })),
  (error: Error) => {
    console.error(`bench ${name} failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
