/**
 * Engine worker threads, from the sources or from the built engine. Workers do not inherit the
 * host's TypeScript loader: from the sources, `boot.mjs` registers tsx and loads the entry; in the
 * built engine (out/engine, scripts/build-engine.mjs), each entry is a bundle of its own next to
 * the host's and runs directly, with no TypeScript at run time.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

/** Set to true by the engine build (esbuild `define`); undeclared in the sources. */
declare const LAGRANGE_BUNDLED: boolean | undefined;

/** Whether this code runs from the built engine. */
export const BUNDLED: boolean = typeof LAGRANGE_BUNDLED !== 'undefined' && LAGRANGE_BUNDLED;

/**
 * A worker running `entry` (a TypeScript module, as a URL) from the sources, or its bundle
 * `<name>.mjs` in the built engine.
 */
export function engineWorker(name: 'worker' | 'noise-worker' | 'onnx-operator-worker' | 'check-worker' | 'tune-worker', entry: URL, options: WorkerOptions = {}): Worker {
  if (BUNDLED) return new Worker(new URL(`./${name}.mjs`, import.meta.url), options);
  return new Worker(new URL('./boot.mjs', import.meta.url), { ...options, workerData: { ...(options.workerData as object | undefined), entry: entry.href } });
}
