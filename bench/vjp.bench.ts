/**
 * Cost of the exact VJP (src/engine/onnx/autodiff) of the bundled fmnist-32 UNet on the CPU
 * provider: one run of the derived VJP model (forward and backward in one graph) ÷ one forward
 * of the network, at batch 1 and 4, median of timed runs after warm-up. For comparison, the
 * symmetric finite-difference VJP DPS used so far costs one forward on a batch of 2N (both
 * probes); and denoiseVjp through the prior, exact vs symmetric-fd. Run: `npx tsx bench/vjp.bench.ts` (LAGRANGE_BENCH_RUNS sets the timed runs, default 30).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { vjpModel, withExactVjp } from '../src/engine/onnx/autodiff';
import { resolveModelDir } from '../src/engine/priors/catalog';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { withSymmetricVjp } from '../src/engine/priors/symmetricVjp';
import { tensor } from '../src/engine/tensor/tensor';
import { fmt } from './timing';

const ROOT = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.LAGRANGE_BENCH_RUNS ?? 30);

/** Median ms of one run of each model, the runs interleaved so machine load hits both alike. */
async function medianMs(models: { bytes: Uint8Array; feeds: Record<string, ort.Tensor> }[]): Promise<number[]> {
  const sessions = await Promise.all(models.map((m) => ort.InferenceSession.create(m.bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 })));
  const times = models.map((): number[] => []);
  for (let i = 0; i < RUNS + 3; i++)
    for (const [k, s] of sessions.entries()) {
      const t0 = performance.now();
      await s.run(models[k]!.feeds);
      if (i >= 3) times[k]!.push(performance.now() - t0);
    }
  await Promise.all(sessions.map((s) => s.release()));
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}

const image = (n: number): ort.Tensor =>
  new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * 1024 }, (_, i) => Math.sin(i * 0.37)),
    [n, 1, 32, 32],
  );
const steps = (n: number): ort.Tensor =>
  new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: n }, () => 500n),
    [n],
  );

const model = readFileSync(`${ROOT}resources/models/fmnist-32/model.onnx`);
const t0 = performance.now();
const derived = await vjpModel(model, 'x', { file: 'fmnist-32' });
const buildMs = performance.now() - t0;
console.log(
  `fmnist-32 VJP model: built in ${fmt(buildMs)} ms, ${(derived.bytes.length / 1e6).toFixed(2)} MB (network ${(model.length / 1e6).toFixed(2)} MB); CPU provider, median of ${RUNS} runs`,
);
console.log('batch  forward ms  vjp ms  vjp÷forward  fd(2N)÷forward');
for (const n of [1, 4]) {
  const [fwd, vjp, fd] = await medianMs([
    { bytes: model, feeds: { x: image(n), t: steps(n) } },
    { bytes: derived.bytes, feeds: { x: image(n), t: steps(n), [derived.cotangent]: image(n) } },
    { bytes: model, feeds: { x: image(2 * n), t: steps(2 * n) } },
  ]);
  console.log(`${String(n).padEnd(7)}${fmt(fwd!).padEnd(12)}${fmt(vjp!).padEnd(8)}${fmt(vjp! / fwd!).padEnd(13)}${fmt(fd! / fwd!)}`);
}

// Through the prior, as DPS calls it: denoiseVjp exact (reverse mode) vs symmetric-fd, batch 1.
const prior = await loadOnnxPrior(resolveModelDir('fmnist-32'), { providers: ['cpu'] });
const exact = withExactVjp(prior),
  fd = withSymmetricVjp(prior);
const x = tensor(
  [1, 1, 32, 32],
  Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i * 0.37)),
);
await exact.denoiseVjp!(x, 500, x); // derives and opens the VJP model
const per = async (f: () => Promise<unknown>): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t1 = performance.now();
    await f();
    times.push(performance.now() - t1);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
};
const [te, tf] = [await per(() => exact.denoiseVjp!(x, 500, x)), await per(() => fd.denoiseVjp!(x, 500, x))];
console.log(`denoiseVjp through the prior (batch 1): exact ${fmt(te)} ms, symmetric-fd ${fmt(tf)} ms (exact ÷ fd ${fmt(te / tf)})`);
await exact.release();
