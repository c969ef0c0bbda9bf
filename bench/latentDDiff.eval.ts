/**
 * LatentDDiff — the `latent-ddiff` preset, compiled and run as shipped — on held-out images of its
 * latent model against the measurement itself: box inpainting, σ_y = 0.05, one sample per image,
 * PSNR on [0, 1] images (src/engine/metrics/psnr.ts), mean with a 95 % interval (t, n − 1 degrees
 * of freedom). Also the autoencoder's own ceiling: PSNR of D(E(x)) against x. Image i is simulated
 * and run with seed i.
 *
 *   npx tsx bench/latentDDiff.eval.ts [model] [first image] [count] [iterations] [γ₀]
 *
 * Defaults: fmnist-latent-8, images 00–15 of its heldout/, 1000 iterations (DDiff's), the preset's γ₀.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { presetFile } from '../src/engine/graph/presets';
import { psnr } from '../src/engine/metrics/psnr';
import { loadAutoencoderNet } from '../src/engine/priors/autoencoder';
import { resolveModelDir } from '../src/engine/priors/catalog';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { runPlan } from '../src/engine/runtime/run';
import type { ParamTable } from '../src/protocol/params';

const LATENT_KINDS = new Set(['LatentScoreModel', 'LatentXUpdate', 'Encoder', 'Decoder']);
const [model = 'fmnist-latent-8', first = '0', count = '16', iterations = '1000', gamma0] = process.argv.slice(2);

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
  const file = presetFile('latent-ddiff')!;
  const doc = parseGraph(JSON.parse(readFileSync(file, 'utf8')), file);
  const encoder = await loadAutoencoderNet(dir, 'encoder', { providers: ['cpu'] });
  const decoder = await loadAutoencoderNet(dir, 'decoder', { providers: ['cpu'] });
  const rows: { image: string; measurement: number; latentDDiff: number; autoencoder: number; ms: number }[] = [];
  for (let i = Number(first); i < Number(first) + Number(count); i++) {
    const image = `${String(i).padStart(2, '0')}.png`;
    // Every latent node on the chosen model (they must share one autoencoder), γ₀ on the x-update.
    const set: ParamTable = Object.fromEntries(doc.nodes.filter((n) => LATENT_KINDS.has(n.kind)).map((n) => [n.id, { source: 'bundled', model }]));
    set.image = { source: join(dir, 'heldout', image) };
    if (gamma0 !== undefined) set.x = { ...set.x, gamma0: Number(gamma0) };
    const t0 = performance.now();
    const plan = await compile(doc, { iterations: Number(iterations), seed: i, set });
    const r = await runPlan(plan, { throttleMs: Infinity });
    const ms = performance.now() - t0;
    const truth = plan.measurement.x!;
    const ae = await decoder.run(await encoder.run(truth));
    rows.push({ image, measurement: psnr(plan.measurement.y, truth)[0]!, latentDDiff: psnr(r.result!, truth)[0]!, autoencoder: psnr(ae, truth)[0]!, ms });
    console.log(JSON.stringify({ ...rows.at(-1), nfe: r.report.nfe, gamma0: plan.effectiveParams.x!.gamma0 }));
  }
  for (const key of ['measurement', 'latentDDiff', 'autoencoder'] as const) {
    const { mean, half } = meanInterval(rows.map((r) => r[key]));
    console.log(`${key.padEnd(12)} ${mean.toFixed(2)} ± ${half.toFixed(2)} dB (n = ${rows.length})`);
  }
  const diff = meanInterval(rows.map((r) => r.latentDDiff - r.measurement));
  const above = rows.filter((r) => r.latentDDiff > r.measurement).length;
  console.log(
    `paired gain  ${diff.mean.toFixed(2)} ± ${diff.half.toFixed(2)} dB (above y on ${above} of ${rows.length}); ${(rows.reduce((a, r) => a + r.ms, 0) / rows.length / 1000).toFixed(1)} s per image`,
  );
  await Promise.all([encoder.release(), decoder.release(), releaseLatentNets()]);
}

await main();
