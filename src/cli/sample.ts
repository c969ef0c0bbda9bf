/**
 * `lagrange sample --prior <model>`: unconditional DDIM samples of a score model through the
 * engine, written as a grid PNG (and optionally .npy) — the quickest end-to-end look at whether
 * an exported prior generates what it was trained on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { writeNpy } from '../engine/io/npy';
import { pixelMoments } from '../engine/metrics/moments';
import { resolveModelDir } from '../engine/priors/catalog';
import type { ExecutionProvider } from '../engine/priors/onnxPrior';
import { loadOnnxPrior } from '../engine/priors/onnxPrior';
import { sampleUnconditional } from '../engine/priors/sample';
import type { Tensor } from '../engine/tensor/tensor';
import { CliError, intOption, numberOption } from './errors';

/** Options as commander hands them over. */
export interface SampleArgs {
  prior: string;
  out: string;
  steps: string;
  count: string;
  seed: string;
  eta: string;
  clip?: boolean;
  npy?: string;
  provider?: ExecutionProvider;
}

const to8 = (v: number): number => Math.round(((Math.min(1, Math.max(-1, v)) + 1) / 2) * 255);

/**
 * An N×C×H×W batch in [−1, 1] (C = 1 or 3) as a PNG grid: `cols` columns, `gap` px white between
 * tiles, row-major; C = 1 is written as gray (R = G = B).
 */
export function sampleGrid(x: Tensor, cols = 8, gap = 2): Buffer {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (c !== 1 && c !== 3) throw new CliError(`a grid PNG needs 1 or 3 channels, the samples have ${c}`);
  const nc = Math.min(cols, n),
    nr = Math.ceil(n / nc);
  const width = nc * w + (nc - 1) * gap,
    height = nr * h + (nr - 1) * gap;
  const png = new PNG({ width, height });
  png.data.fill(255);
  for (let k = 0; k < n; k++) {
    const x0 = (k % nc) * (w + gap),
      y0 = Math.floor(k / nc) * (h + gap);
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        const o = 4 * ((y0 + r) * width + x0 + q);
        for (let ch = 0; ch < 3; ch++) png.data[o + ch] = to8(x.data[((k * c + (c === 3 ? ch : 0)) * h + r) * w + q]!);
      }
    }
  }
  return PNG.sync.write(png);
}

/** Mean pixel value, and the mean over pixels of the per-pixel std across the samples. */
export function sampleStats(x: Tensor): { mean: number; std: number } {
  const { mean, variance } = pixelMoments(x);
  const avg = (v: Float64Array, f: (a: number) => number): number => v.reduce((s, a) => s + f(a), 0) / v.length;
  return { mean: avg(mean, (a) => a), std: avg(variance, Math.sqrt) };
}

/** Runs the command; returns the one summary line. */
export async function runSample(args: SampleArgs): Promise<string[]> {
  const steps = intOption('--steps', args.steps, 1);
  const count = intOption('--count', args.count, 1);
  const seed = intOption('--seed', args.seed, 0);
  const eta = numberOption('--eta', args.eta, (v) => (v < 0 ? 'must be ≥ 0' : undefined));
  if (!/\.png$/i.test(args.out)) throw new CliError(`--out ${args.out}: the grid is a PNG; name it *.png`);
  if (args.npy !== undefined && !/\.npy$/i.test(args.npy)) throw new CliError(`--npy ${args.npy}: name it *.npy`);
  const prior = await loadOnnxPrior(resolveModelDir(args.prior), args.provider ? { providers: [args.provider] } : {});
  let x: Tensor, ms: number;
  try {
    const c = prior.shape[0]!;
    if (c !== 1 && c !== 3) throw new CliError(`model ${prior.card.name} has ${c} channels; a grid PNG needs 1 or 3`);
    if (steps > prior.schedule.T) throw new CliError(`--steps must be ≤ ${prior.schedule.T} (the model's T), got ${steps}`);
    const start = performance.now();
    x = await sampleUnconditional(prior, { count, steps, seed, eta, clip: !!args.clip });
    ms = performance.now() - start;
  } finally {
    await prior.release();
  }
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, sampleGrid(x));
  const files = [args.out];
  if (args.npy) {
    mkdirSync(dirname(args.npy), { recursive: true });
    writeNpy(args.npy, x);
    files.push(args.npy);
  }
  const { mean, std } = sampleStats(x);
  return [
    `${count} samples from ${prior.card.name}: ${steps} steps = ${steps} NFE (batch ${count}), ${(ms / 1000).toFixed(2)} s, ${prior.provider}, ` +
      `seed ${seed}, η ${eta}${args.clip ? ', clipped' : ''}; pixel mean ${mean.toFixed(3)}, mean per-pixel std ${std.toFixed(3)}; wrote ${files.join(', ')}`,
  ];
}
