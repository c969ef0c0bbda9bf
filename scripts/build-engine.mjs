#!/usr/bin/env node
// The built engine: the CLI (with browser mode's server), the engine API the desktop host loads,
// and the worker entries, bundled ahead of time into out/engine so nothing compiles TypeScript at
// run time. Dependencies stay in node_modules (onnxruntime-node's native add-on, ws, zod, …).
// Runs on `npm ci` (the `prepare` script); bin/lagrange.mjs uses the bundle while it is newer
// than every source file and the sources through tsx otherwise (a checkout being edited).
// Plugins are never bundled: src/engine/plugin/load.ts imports each entry at run time by file URL
// (a dynamic import of a computed URL, which esbuild leaves as it is), from the CLI and every worker.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}out/engine`, { recursive: true, force: true }); // no chunks of earlier builds
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'src/cli/main.ts',
    server: 'src/server/main.ts',
    service: 'src/engine/api/service.ts',
    worker: 'src/engine/runtime/worker/entry.ts',
    'noise-worker': 'src/engine/onnx/noise-worker.ts',
    'onnx-operator-worker': 'src/engine/operators/onnx/worker.ts',
    // Graph parse + validate off the hosts' event loop (src/engine/api/checkPool.ts).
    'check-worker': 'src/engine/api/checkWorker.ts',
    // The studio's parameter searches (src/engine/tune/thread.ts).
    'tune-worker': 'src/engine/tune/worker.ts',
  },
  outdir: 'out/engine',
  outExtension: { '.js': '.mjs' },
  // Shared code in chunks next to the entries: workers are found as ./<name>.mjs from any of them.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  define: { LAGRANGE_BUNDLED: 'true' },
  sourcemap: true,
  logLevel: 'warning',
});
