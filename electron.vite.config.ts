import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// Three bundles. "main" holds every Node-side entry: the Electron shell, the backend hosts
// (utility process for Electron, worker thread for the CLI and harness), the compute worker that
// holds onnxruntime sessions, the tokenizer worker that runs user-supplied tokenizers, the CLI, the harness and the benchmarks.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        input: {
          app: resolve('src/main/app/index.ts'),
          'backend-utility': resolve('src/main/backend/entry-utility.ts'),
          'backend-worker': resolve('src/main/backend/entry-worker.ts'),
          'runtime-worker': resolve('src/main/engine/runtime-worker.ts'),
          'tokenizer-worker': resolve('src/main/io/tokenizer-worker.ts'),
          cli: resolve('src/cli/main.ts'),
          harness: resolve('src/main/harness/server.ts'),
          bench: resolve('bench/run.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload cannot load ES modules or node_modules: one self-contained CJS file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      // No asset is inlined as a data: URI: the CSP allows fonts and images from 'self' only.
      assetsInlineLimit: 0,
      rolldownOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
  },
});
