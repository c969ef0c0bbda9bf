/**
 * LatentDAPS's MCMC step (src/engine/runtime/latentDapsSteps.ts): its score is minus the gradient
 * of its energy (central differences through the bundled decoder), the clip acts elementwise on
 * the data gradient only, and with no data term the Langevin and HMC chains have exactly the
 * moments their linear recursions predict for the Gaussian N(ẑ₀, σ²I).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../src/engine/io/prepare';
import type { MeasurementValue } from '../src/engine/kernels/updates';
import type { ForwardModel } from '../src/engine/operators/types';
import type { AutoencoderNet } from '../src/engine/priors/autoencoder';
import { loadAutoencoderNet } from '../src/engine/priors/autoencoder';
import type { LatentDecoder } from '../src/engine/runtime/latentDapsSteps';
import { latentMcmc, latentMcmcScore } from '../src/engine/runtime/latentDapsSteps';
import { simulate } from '../src/engine/simulate';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';

const DIR = join(new URL('..', import.meta.url).pathname, 'resources/models/fmnist-latent-8');
let decoder: AutoencoderNet;
beforeAll(async () => {
  decoder = await loadAutoencoderNet(DIR, 'decoder', { providers: ['cpu'] });
});
afterAll(async () => {
  await decoder.release();
});

const normal = (shape: number[], seed: string, scale = 1): Tensor => {
  const t = tensor(shape);
  createRng(7, seed).fillNormal(t.data, scale);
  return t;
};
const axpy = (a: Tensor, s: number, b: Tensor): Tensor =>
  tensor(
    a.shape,
    Float32Array.from(a.data, (v, i) => v + s * b.data[i]!),
  );

describe('LatentMCMC score', () => {
  it('is minus the gradient of its energy ‖A(D(z/s)) − y‖²/τ² + ‖z − ẑ₀‖²/2σ² (central differences)', async () => {
    const truth = await loadImage(join(DIR, 'heldout', '16.png'), 32, 1);
    const sim = simulate({ task: 'inpaint-box', image: truth, seed: 16, noise: { kind: 'gaussian', sigma: 0.05 } });
    const m: MeasurementValue = { op: sim.op, y: sim.y, sigmaY: 0.05 };
    const z = normal([1, 4, 8, 8], 'z'),
      zhat = normal([1, 4, 8, 8], 'zhat');
    const p = { tau: 0.5, gradClip: 0 },
      sigma = 0.7;
    const { score } = await latentMcmcScore(m, decoder, z, zhat, sigma, p);
    const energy = async (w: Tensor): Promise<number> => (await latentMcmcScore(m, decoder, w, zhat, sigma, p)).energy[0]!;
    for (const probe of ['d0', 'd1', 'd2']) {
      const d = normal([1, 4, 8, 8], probe);
      const h = 1e-2;
      const fd = ((await energy(axpy(z, h, d))) - (await energy(axpy(z, -h, d)))) / (2 * h);
      const analytic = -score.data.reduce((a, v, i) => a + v * d.data[i]!, 0);
      expect(Math.abs(analytic - fd) / Math.abs(fd), probe).toBeLessThan(2e-3);
    }
  }, 20_000);

  it('clips the data gradient elementwise to ±c and leaves the prior term alone', async () => {
    const truth = await loadImage(join(DIR, 'heldout', '16.png'), 32, 1);
    const sim = simulate({ task: 'inpaint-box', image: truth, seed: 16, noise: { kind: 'gaussian', sigma: 0.05 } });
    const m: MeasurementValue = { op: sim.op, y: sim.y, sigmaY: 0.05 };
    const z = normal([1, 4, 8, 8], 'z'),
      zhat = normal([1, 4, 8, 8], 'zhat');
    const tau = 0.1,
      sigma = 2,
      c = 0.05;
    const full = (await latentMcmcScore(m, decoder, z, zhat, sigma, { tau, gradClip: 0 })).score;
    const clipped = (await latentMcmcScore(m, decoder, z, zhat, sigma, { tau, gradClip: c })).score;
    let active = 0;
    for (let i = 0; i < z.data.length; i++) {
      const prior = (zhat.data[i]! - z.data[i]!) / sigma ** 2;
      const g = -(full.data[i]! - prior) * tau * tau; // the unclipped data gradient
      if (Math.abs(g) > c) active++;
      expect(clipped.data[i]!).toBeCloseTo(-Math.max(-c, Math.min(c, g)) / (tau * tau) + prior, 3);
    }
    expect(active).toBeGreaterThan(10); // the clip really acts on this latent
  }, 20_000);
});

/** An operator with no output: the data term vanishes, leaving the Gaussian N(ẑ₀, σ²I). */
const noData = (shape: number[]): MeasurementValue => {
  const op = {
    id: 'none',
    inShape: shape,
    outShape: [1],
    linear: true,
    params: {},
    artifacts: {},
    apply: (x: Tensor) => tensor([x.shape[0]!, 1]),
    vjp: (x: Tensor) => tensor(x.shape),
    view: (y: Tensor) => y,
  } satisfies ForwardModel;
  return { op, y: tensor([1, 1]), sigmaY: 1 };
};
const identity: LatentDecoder = { run: async (z) => tensor(z.shape, z.data.slice()), vjp: async (_z, v) => v };

/** Mean and variance of z − ẑ₀ over every entry. */
function moments(z: Tensor, mu: Tensor): { mean: number; variance: number } {
  let s = 0,
    q = 0;
  for (let i = 0; i < z.data.length; i++) {
    const e = z.data[i]! - mu.data[i]!;
    s += e;
    q += e * e;
  }
  const n = z.data.length;
  return { mean: s / n, variance: q / n - (s / n) ** 2 };
}

describe('LatentMCMC with no data term on N(ẑ₀, σ²I)', () => {
  const shape = [64, 4, 8, 8];
  const mu = normal(shape, 'mu', 3);
  const sigma = 0.5;

  it('Langevin: mean ẑ₀ and the AR(1) variance 2η(1 − a^{2K})/(1 − a²), a = 1 − η/σ², near σ² for large K', async () => {
    const lr = 0.05 * sigma ** 2,
      K = 60;
    const z = await latentMcmc(noData(shape.slice(1)), identity, mu, sigma, { algo: 'langevin', steps: K, lr, tau: 0.01, momentum: 0, gradClip: 1 }, createRng(3, 'chain'));
    const a = 1 - lr / sigma ** 2;
    const expected = (2 * lr * (1 - a ** (2 * K))) / (1 - a * a);
    const { mean, variance } = moments(z, mu);
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(expected / z.data.length));
    expect(variance / expected).toBeGreaterThan(0.96);
    expect(variance / expected).toBeLessThan(1.04);
    expect(expected / sigma ** 2).toBeGreaterThan(0.97); // the chain has (nearly) reached N(ẑ₀, σ²I)
  });

  it('HMC: the covariance recursion of (z − ẑ₀, v) with momentum m predicts the variance of z', async () => {
    const lr = 0.01,
      m = 0.74,
      K = 30;
    const z = await latentMcmc(noData(shape.slice(1)), identity, mu, sigma, { algo: 'hmc', steps: K, lr, tau: 0.01, momentum: m, gradClip: 1 }, createRng(4, 'chain'));
    // (e, v)' = M (e, v) + b ε with h = √η: v' = m v − h e/σ² + k ε, e' = e + h v', k = √(2(1 − m)).
    const h = Math.sqrt(lr),
      k = Math.sqrt(2 * (1 - m));
    const M = [
      [1 - (h * h) / sigma ** 2, h * m],
      [-h / sigma ** 2, m],
    ];
    const b = [h * k, k];
    let C = [
      [0, 0],
      [0, 1],
    ]; // the chain starts at ẑ₀ with v₀ ~ N(0, I)
    for (let it = 0; it < K; it++) {
      const MC = M.map((row) => [0, 1].map((j) => row[0]! * C[0]![j]! + row[1]! * C[1]![j]!));
      C = [0, 1].map((i) => [0, 1].map((j) => MC[i]![0]! * M[j]![0]! + MC[i]![1]! * M[j]![1]! + b[i]! * b[j]!));
    }
    const expected = C[0]![0]!;
    const { mean, variance } = moments(z, mu);
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(expected / z.data.length));
    expect(variance / expected).toBeGreaterThan(0.96);
    expect(variance / expected).toBeLessThan(1.04);
  });

  it('refuses a diverging chain, naming the step', async () => {
    const p = { algo: 'langevin' as const, steps: 200, lr: 5 * sigma ** 2, tau: 0.01, momentum: 0, gradClip: 1 };
    await expect(latentMcmc(noData(shape.slice(1)), identity, mu, sigma, p, createRng(5, 'chain'))).rejects.toThrow(/diverged at step \d+ of 200.*lower lr/);
  });
});
