/**
 * LatentDDiff (src/engine/runtime/latentDDiff.ts) on held-out images of a latent model against the
 * measurement itself: box inpainting, σ_y = 0.05, one sample per image, PSNR on [0, 1] images
 * (src/engine/metrics/psnr.ts), mean with a 95 % interval (t, n − 1 degrees of freedom). Also the
 * autoencoder's own ceiling: PSNR of D(E(x)) against x.
 *
 *   npx tsx bench/latentDDiff.eval.ts [model] [first image] [count] [iterations] [γ₀]
 *
 * Defaults: fmnist-latent-8, images 00–15 of its heldout/, 1000 iterations (DDiff's), γ₀ 1.
 */
import { join } from 'node:path';
import { nodeKind } from '../src/nodes/index';
import { loadImage } from '../src/engine/io/prepare';
import type { NoisingStepParams } from '../src/engine/kernels/updates';
import { psnr } from '../src/engine/metrics/psnr';
import { loadAutoencoderNet } from '../src/engine/priors/autoencoder';
import { resolveModelDir } from '../src/engine/priors/catalog';
import { loadLatentPrior } from '../src/engine/priors/latentPrior';
import { runLatentDDiff } from '../src/engine/runtime/latentDDiff';
import type { LatentStepParams } from '../src/engine/runtime/latentExecutors';
import type { ScheduleParams } from '../src/engine/compile/schedule';
import { simulate } from '../src/engine/simulate';

const [model = 'fmnist-latent-8', first = '0', count = '16', iterations = '1000', gamma0 = '1'] = process.argv.slice(2);

/** Mean and half-width of the 95 % t-interval (t quantiles for small n, 1.96 beyond 30). */
export function meanInterval(v: readonly number[]): { mean: number; half: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, half: NaN };
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const T = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09];
  return { mean, half: (T[n - 2] ?? (n <= 31 ? 2.05 : 1.96)) * (sd / Math.sqrt(n)) };
}

async function main(): Promise<void> {
  const dir = resolveModelDir(model);
  const prior = await loadLatentPrior(dir, { providers: ['cpu'] });
  const decoder = await loadAutoencoderNet(dir, 'decoder', { providers: ['cpu'] });
  const encoder = await loadAutoencoderNet(dir, 'encoder', { providers: ['cpu'] });
  const schedule = nodeKind('Schedule')!.params.parse({ iterations: Number(iterations) }) as unknown as ScheduleParams;
  const x = nodeKind('LatentXUpdate')!.params.parse({ gamma0: Number(gamma0) }) as unknown as LatentStepParams;
  // DDiff's box-inpainting noising (its preset's task:inpaint-box): fresh noise, none below t = 1.
  const noise = nodeKind('ZUpdate')!.params.parse({ zeta: 1, eta: 1, t0: 1 }) as unknown as NoisingStepParams;
  const rows: { image: string; measurement: number; latentDDiff: number; autoencoder: number; ms: number }[] = [];
  for (let i = Number(first); i < Number(first) + Number(count); i++) {
    const image = `${String(i).padStart(2, '0')}.png`;
    const truth = await loadImage(join(dir, 'heldout', image), 32, 1);
    const m = simulate({ task: 'inpaint-box', image: truth, seed: i, noise: { kind: 'gaussian', sigma: 0.05 } });
    const measurement = { op: m.op, y: m.y, sigmaY: 0.05, x: truth };
    const t0 = performance.now();
    const r = await runLatentDDiff({ prior, decoder, measurement, samples: 1, seed: i, schedule, x, noise, rho: 1 });
    const ms = performance.now() - t0;
    const ae = await decoder.run(await encoder.run(truth));
    rows.push({ image, measurement: psnr(m.y, truth)[0]!, latentDDiff: psnr(r.image, truth)[0]!, autoencoder: psnr(ae, truth)[0]!, ms });
    console.log(JSON.stringify({ ...rows.at(-1), cost: r.cost }));
  }
  for (const key of ['measurement', 'latentDDiff', 'autoencoder'] as const) {
    const { mean, half } = meanInterval(rows.map((r) => r[key]));
    console.log(`${key.padEnd(12)} ${mean.toFixed(2)} ± ${half.toFixed(2)} dB (n = ${rows.length})`);
  }
  const diff = meanInterval(rows.map((r) => r.latentDDiff - r.measurement));
  console.log(`paired gain  ${diff.mean.toFixed(2)} ± ${diff.half.toFixed(2)} dB; ${(rows.reduce((a, r) => a + r.ms, 0) / rows.length / 1000).toFixed(1)} s per image`);
  await Promise.all([prior.release(), decoder.release(), encoder.release()]);
}

await main();
