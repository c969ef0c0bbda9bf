/**
 * LatentDAPS (src/engine/runtime/latentDaps.ts) on held-out images of a latent model against the
 * measurement itself: box inpainting, σ_y = 0.05, one sample per image, PSNR on [0, 1] images,
 * mean with a 95 % t-interval, and the cost per image (NFE, decoder VJPs, decoder forwards).
 *
 *   npx tsx bench/latentDaps.eval.ts [model] [first image] [count] [levels] [key=value …]
 *
 * Defaults: fmnist-latent-8, images 00–15 of its heldout/, the DAPS code's 50 annealing levels.
 * key=value pairs override LatentMCMC / LatentProbabilityFlowODE parameters (e.g. algo=langevin
 * lr=1e-5 steps=15 odeSteps=2); ddiff=1 also runs the compiled latent-ddiff preset (1000
 * iterations, run seed = image index) on the same measurement, for a paired comparison.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeKind } from '../src/nodes/index';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { loadImage } from '../src/engine/io/prepare';
import { psnr } from '../src/engine/metrics/psnr';
import { loadAutoencoderNet } from '../src/engine/priors/autoencoder';
import { resolveModelDir } from '../src/engine/priors/catalog';
import { loadLatentPrior } from '../src/engine/priors/latentPrior';
import { codeAnnealingSchedule, runLatentDAPS } from '../src/engine/runtime/latentDaps';
import { runPlan } from '../src/engine/runtime/run';
import type { LatentMcmcParams, LatentOdeParams } from '../src/engine/runtime/latentDapsSteps';
import { simulate } from '../src/engine/simulate';
import { meanCi } from '../src/engine/eval/table';

const [model = 'fmnist-latent-8', first = '0', count = '16', levels = '50', ...rest] = process.argv.slice(2);
const set = Object.fromEntries(rest.map((kv) => kv.split('=') as [string, string]));
const num = (k: string): Record<string, number> => (set[k] === undefined ? {} : { [k]: Number(set[k]) });

async function main(): Promise<void> {
  const dir = resolveModelDir(model);
  const prior = await loadLatentPrior(dir, { providers: ['cpu'] });
  const decoder = await loadAutoencoderNet(dir, 'decoder', { providers: ['cpu'] });
  const mcmc = nodeKind('LatentMCMC')!.params.parse({
    ...(set.algo ? { algo: set.algo } : {}),
    ...num('steps'),
    ...num('lr'),
    ...num('lrMinRatio'),
    ...num('tau'),
    ...num('momentum'),
    ...num('gradClip'),
  }) as unknown as LatentMcmcParams & { lrMinRatio: number };
  const ode = nodeKind('LatentProbabilityFlowODE')!.params.parse({
    ...(set.odeSteps ? { steps: Number(set.odeSteps) } : {}),
    ...(set.end ? { end: set.end } : {}),
  }) as unknown as LatentOdeParams;
  const sigmaMax = Number(set.sigmaMax ?? 10);
  const schedule = codeAnnealingSchedule(Number(levels), sigmaMax, Number(set.sigmaMin ?? 0.1));
  console.log(JSON.stringify({ levels: Number(levels), sigmaMax, mcmc, ode }));
  const rows: { image: string; measurement: number; latentDAPS: number; latentDDiff?: number; ms: number }[] = [];
  const ddiffFile = join(import.meta.dirname, '../resources/presets/latent-ddiff.lagrange.json');
  const ddiff = set.ddiff ? parseGraph(JSON.parse(readFileSync(ddiffFile, 'utf8')), ddiffFile) : undefined;
  for (let i = Number(first); i < Number(first) + Number(count); i++) {
    const image = `${String(i).padStart(2, '0')}.png`;
    const truth = await loadImage(join(dir, 'heldout', image), 32, 1);
    const m = simulate({ task: 'inpaint-box', image: truth, seed: i, noise: { kind: 'gaussian', sigma: 0.05 } });
    const measurement = { op: m.op, y: m.y, sigmaY: 0.05, x: truth };
    const t0 = performance.now();
    const r = await runLatentDAPS({ prior, decoder, measurement, samples: 1, seed: i, schedule, ode, mcmc, initScale: sigmaMax });
    const ms = performance.now() - t0;
    rows.push({ image, measurement: psnr(m.y, truth)[0]!, latentDAPS: psnr(r.image, truth)[0]!, ms });
    if (ddiff) {
      // The preset simulates with the image's index as its seed: the same y as above, checked.
      const plan = await compile(ddiff, { seed: i, set: { image: { source: `model:${model}/heldout/${image}` }, measure: { seed: i } } });
      if (!plan.measurement.y.data.every((v, j) => v === m.y.data[j])) throw new Error(`latent-ddiff simulated another y for ${image}`);
      rows.at(-1)!.latentDDiff = psnr((await runPlan(plan, { throttleMs: Infinity })).result!, truth)[0]!;
    }
    console.log(JSON.stringify({ ...rows.at(-1), cost: r.cost }));
  }
  for (const key of ['measurement', 'latentDAPS'] as const) {
    const { mean, ci: half } = meanCi(rows.map((r) => r[key]));
    console.log(`${key.padEnd(12)} ${mean.toFixed(2)} ± ${half.toFixed(2)} dB (n = ${rows.length})`);
  }
  const diff = meanCi(rows.map((r) => r.latentDAPS - r.measurement));
  const above = rows.filter((r) => r.latentDAPS > r.measurement).length;
  if (ddiff) {
    const d = meanCi(rows.map((r) => r.latentDAPS - r.latentDDiff!));
    const { mean, ci } = meanCi(rows.map((r) => r.latentDDiff!));
    console.log(`latentDDiff  ${mean.toFixed(2)} ± ${ci.toFixed(2)} dB; LatentDAPS − LatentDDiff ${d.mean.toFixed(2)} ± ${d.ci.toFixed(2)} dB (paired)`);
  }
  const perImage = rows.reduce((a, r) => a + r.ms, 0) / rows.length / 1000;
  console.log(`paired gain  ${diff.mean.toFixed(2)} ± ${diff.ci.toFixed(2)} dB; above y on ${above} of ${rows.length}; ${perImage.toFixed(1)} s per image`);
  await Promise.all([prior.release(), decoder.release()]);
}

await main();
