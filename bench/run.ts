// `npm run bench -- <name>`: benchmarks print JSON lines, the last one a summary object.
// Built by electron-vite with the product's code (out/main/bench.js); never part of `npm test`.
import { benchEngine, ZERO_COPY_CHILD, zeroCopyChild } from './engine';
import { benchFertility } from './fertility';

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  engine: benchEngine,
  fertility: benchFertility,
};

const name = process.argv[2];
if (name === ZERO_COPY_CHILD) {
  // A fresh process for one memory measurement (see bench/engine.ts).
  await zeroCopyChild(process.argv[3], process.argv[4]);
  process.exit(0);
}
const bench = name ? BENCHES[name] : undefined;
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`);
  process.exit(2);
}
bench().then(
  (summary) => console.log(JSON.stringify({ bench: name, summary: true, ...summary })),
  (error: Error) => {
    console.error(`bench ${name} failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
