// Stand-alone entry of the GPU check (bench/gpu/check.ts), bundled by bench/gpu/pack.sh into one
// file that needs only Node and onnxruntime-node on the device machine. In the repository,
// `npm run bench -- gpu` runs the same check from the electron-vite build.
import { gpuCheck } from './check';

process.exit(await gpuCheck(process.argv.slice(2)));
