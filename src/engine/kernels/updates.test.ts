import { describe, expect, it } from 'vitest';
import { linearSchedule } from '../diffusion/schedule';
import { createOperator } from '../operators/registry';
import { gaussianPrior } from '../priors/gaussianMixture';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { GradientStepParams, MeasurementValue } from './updates';
import { denoiseStep, dualStep, gradientXStep, noisingStep, proxXStep, renoise } from './updates';

const vp = linearSchedule();
const rng = createRng(9);
const randn = (shape: number[], s = 1): Tensor => {
  const t = tensor(shape);
  rng.fillNormal(t.data, s);
  return t;
};
const at = (t: number, s: number) => ({ t, alphaBarT: vp.alphaBarAt(t), alphaBarS: vp.alphaBarAt(s), betaT: vp.betas[t]! });
const maxDiff = (a: Tensor, b: Tensor): number => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);

describe('denoiseStep', () => {
  it('is Tweedie of the prior, clipped on request', async () => {
    const prior = gaussianPrior({ shape: [1, 4, 4], mean: new Float32Array(16).fill(0.9), std: 0.5 });
    const xt = randn([1, 1, 4, 4], 3);
    const { x0, eps } = await denoiseStep(prior, xt, 700, false);
    const ab = vp.alphaBarAt(700);
    x0.data.forEach((v, i) => expect(v).toBeCloseTo((xt.data[i]! - Math.sqrt(1 - ab) * eps.data[i]!) / Math.sqrt(ab), 4));
    const clipped = await denoiseStep(prior, xt, 700, true);
    expect(Math.max(...clipped.x0.data)).toBeLessThanOrEqual(1);
    expect(Math.min(...clipped.x0.data)).toBeGreaterThanOrEqual(-1);
  });
});

describe('gradientXStep (DDiff)', () => {
  const op = createOperator('inpaint-random', { shape: [1, 8, 8], seed: 1 });
  const m: MeasurementValue = { op, y: op.apply(randn([1, 1, 8, 8], 0.5)), sigmaY: 0.05 };
  const p: GradientStepParams = { gamma0: 2, normalize: true, tGamma: 90, a: 3.3, b: 0.1 };

  /** ‖x − w‖ per sample and its cosine with g = Aᵀ(Aw − y) (a mask), for x from `p`. */
  const measureStep = (p: GradientStepParams, z: Tensor, u: Tensor, t: number): { step: number; cos: number }[] => {
    const x = gradientXStep(m, z, u, t, p);
    return [0, 1].map((s) => {
      let step = 0,
        dotg = 0,
        gg = 0;
      for (let i = s * 64; i < (s + 1) * 64; i++) {
        const w = z.data[i]! - u.data[i]!;
        const d = x.data[i]! - w;
        step += d * d;
        const g = op.artifacts.mask!.data[i % 64]! * (w - m.y.data[i % 64]!);
        dotg += d * g;
        gg += g * g;
      }
      return { step: Math.sqrt(step), cos: dotg / Math.sqrt(step * gg) };
    });
  };

  it('moves w = z − u by exactly γ₀·a(t) per sample along −Jᵀ(A(w) − y), y broadcast over the batch (no size factor, as the DDiff code)', () => {
    const z = randn([2, 1, 8, 8]),
      u = randn([2, 1, 8, 8], 0.1);
    for (const [t, mult] of [
      [500, 3.3],
      [90, 0.1],
    ] as const) {
      for (const { step, cos } of measureStep(p, z, u, t)) {
        expect(step).toBeCloseTo(2 * mult, 5);
        expect(cos).toBeCloseTo(-1, 5); // antiparallel to the gradient
      }
    }
  });

  it("stepScale 'per-pixel' shortens the step by √(d/(3·256²)); 'none' equals the default", () => {
    const z = randn([2, 1, 8, 8]),
      u = randn([2, 1, 8, 8], 0.1);
    for (const { step } of measureStep({ ...p, stepScale: 'per-pixel' }, z, u, 500)) expect(step).toBeCloseTo(2 * 3.3 * Math.sqrt(64 / (3 * 256 * 256)), 5);
    expect(gradientXStep(m, z, u, 500, { ...p, stepScale: 'none' }).data).toEqual(gradientXStep(m, z, u, 500, p).data);
    const plain = { ...p, normalize: false };
    const a = gradientXStep(m, z, u, 500, plain),
      b = gradientXStep(m, z, u, 500, { ...plain, stepScale: 'per-pixel' });
    const s = Math.sqrt(64 / (3 * 256 * 256));
    a.data.forEach((v, i) => {
      const w = z.data[i]! - u.data[i]!;
      expect(b.data[i]! - w).toBeCloseTo((v - w) * s, 5);
    });
  });
});

describe('proxXStep (DiffPIR)', () => {
  it('is proxL2(w, y, 1/ρ_t) with ρ_t = λσ_n²/σ_t², σ_n = σ_y/2', () => {
    const op = createOperator('deblur-gauss', { shape: [1, 8, 8], params: { kernelSize: 3, sigma: 1 } });
    const m: MeasurementValue = { op, y: op.apply(randn([1, 1, 8, 8], 0.5)), sigmaY: 0.1 };
    const z = randn([1, 1, 8, 8]);
    const sigmaT = 0.3;
    const { x, exact } = proxXStep(m, z, undefined, sigmaT, { lambda: 2, guidance: 1 });
    expect(exact).toBe(true);
    const rho = (2 * 0.05 * 0.05) / (0.3 * 0.3);
    expect(maxDiff(x, op.proxL2!(z, m.y, 1 / rho))).toBeLessThan(1e-6);
  });

  it('falls back to the linearized step on an operator without proxL2', () => {
    const op = createOperator('hdr', { shape: [1, 4, 4] });
    const m: MeasurementValue = { op, y: op.apply(randn([1, 1, 4, 4], 0.3)), sigmaY: 0.1 };
    const z = randn([1, 1, 4, 4], 0.2);
    const { x, exact } = proxXStep(m, z, undefined, 1, { lambda: 1, guidance: 1 });
    expect(exact).toBe(false);
    const rho = 0.05 * 0.05;
    const g = op.vjp!(
      z,
      tensor(
        z.shape,
        op.apply(z).data.map((v, i) => v - m.y.data[i]!),
      ),
    );
    x.data.forEach((v, i) => expect(v).toBeCloseTo(z.data[i]! - g.data[i]! / rho, 3));
  });
});

describe('noisingStep', () => {
  const shape = [1, 1, 64, 64];

  it('with ζ = 0, η = 0 is deterministic DDIM: consistent noise carries over exactly', () => {
    const x = randn(shape, 0.5),
      e = randn(shape);
    const a = at(600, 500);
    const xt = tensor(
      shape,
      x.data.map((v, i) => Math.sqrt(a.alphaBarT) * v + Math.sqrt(1 - a.alphaBarT) * e.data[i]!),
    );
    const xs = noisingStep(xt, x, undefined, a, { zeta: 0, eta: 0, t0: 0, posteriorStd: 'ddim' }, rng);
    xs.data.forEach((v, i) => expect(v).toBeCloseTo(Math.sqrt(a.alphaBarS) * x.data[i]! + Math.sqrt(1 - a.alphaBarS) * e.data[i]!, 4));
  });

  it('with ζ = 0, η = 1 and s = t − 1 is the DDPM ancestral step (posterior mean and variance)', () => {
    const t = 300,
      a = at(t, t - 1);
    const x = randn(shape, 0.5),
      xt = randn(shape);
    const beta = vp.betas[t]!,
      alpha = 1 - beta;
    // noise-free (t ≤ t0): exactly the DDPM posterior mean
    const mean = noisingStep(xt, x, undefined, a, { zeta: 0, eta: 1, t0: 1000, posteriorStd: 'ddim' }, rng);
    mean.data.forEach((v, i) => {
      const mu = ((beta * Math.sqrt(a.alphaBarS)) / (1 - a.alphaBarT)) * x.data[i]! + (((1 - a.alphaBarS) * Math.sqrt(alpha)) / (1 - a.alphaBarT)) * xt.data[i]!;
      expect(v).toBeCloseTo(mu, 4);
    });
    // with noise: the spread around that mean is the posterior std √(β(1−ᾱ_s)/(1−ᾱ_t))
    const noisy = noisingStep(xt, x, undefined, a, { zeta: 0, eta: 1, t0: 0, posteriorStd: 'ddim' }, rng);
    const d = noisy.data.map((v, i) => v - mean.data[i]!);
    const std = Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
    expect(std / Math.sqrt((beta * (1 - a.alphaBarS)) / (1 - a.alphaBarT))).toBeCloseTo(1, 1);
  });

  it('with ζ = 1 is DDiff’s fresh mode √ᾱ_s(x + u) + √(1−ᾱ_s)n, and returns x + u after the last step', () => {
    const a = at(400, 399);
    const x = tensor(shape, new Float32Array(4096).fill(0.3)),
      u = tensor(shape, new Float32Array(4096).fill(0.1));
    const xs = noisingStep(randn(shape), x, u, a, { zeta: 1, eta: 1, t0: 0, posteriorStd: 'ddim' }, rng);
    const mean = xs.data.reduce((s, v) => s + v, 0) / 4096;
    const std = Math.sqrt(xs.data.reduce((s, v) => s + (v - mean) ** 2, 0) / 4096);
    expect(mean).toBeCloseTo(Math.sqrt(a.alphaBarS) * 0.4, 1);
    expect(std / Math.sqrt(1 - a.alphaBarS)).toBeCloseTo(1, 1);
    const last = noisingStep(randn(shape), x, u, { t: 0, alphaBarT: vp.alphaBarAt(0), alphaBarS: 1, betaT: vp.betas[0]! }, { zeta: 1, eta: 1, t0: 0, posteriorStd: 'ddim' }, rng);
    last.data.forEach((v) => expect(v).toBeCloseTo(0.4, 6));
  });
});

describe('dualStep and renoise', () => {
  it('adds ρ(x − z) to u', () => {
    const u = tensor([1, 2], [1, 2]),
      x = tensor([1, 2], [0.5, 0.5]),
      z = tensor([1, 2], [0, 1]);
    expect(Array.from(dualStep(u, x, z, 2).data)).toEqual([2, 1]);
  });

  it('puts an image at a VE level x + σn and a deterministic VP level √ᾱ(x + u)', () => {
    const x = tensor([1, 1, 64, 64], new Float32Array(4096).fill(0.2));
    const ve = renoise(x, undefined, { alphaBar: 1 / (1 + 4), sigma: 2 }, 've', true, rng);
    const mean = ve.data.reduce((s, v) => s + v, 0) / 4096;
    expect(mean).toBeCloseTo(0.2, 0);
    expect(Math.sqrt(ve.data.reduce((s, v) => s + (v - mean) ** 2, 0) / 4096)).toBeCloseTo(2, 0);
    const vpNone = renoise(x, x, { alphaBar: 0.25, sigma: Math.sqrt(3) }, 'vp', false, rng);
    vpNone.data.forEach((v) => expect(v).toBeCloseTo(0.2, 6));
  });
});

describe('noisingStep noise order', () => {
  // The per-element definition: n then n′ for each entry, each only when its coefficient is used.
  function reference(
    xt: Tensor,
    x: Tensor,
    u: Tensor | undefined,
    at: { t: number; alphaBarT: number; alphaBarS: number; betaT: number },
    p: { zeta: number; eta: number; t0: number },
    seed: number,
  ): Float32Array {
    const rng = createRng(seed, 'noise');
    const { alphaBarT: abT, alphaBarS: abS } = at;
    const c = p.eta * Math.sqrt((1 - abS) / (1 - abT)) * Math.sqrt(Math.max(0, 1 - abT / abS));
    const noisy = at.t > p.t0,
      fresh = Math.sqrt(p.zeta) * Math.sqrt(1 - abS);
    const dir = Math.sqrt(Math.max(0, 1 - abS - c * c)),
      keep = Math.sqrt(1 - p.zeta);
    return Float32Array.from(x.data, (xv, i) => {
      const eps = (xt.data[i]! - Math.sqrt(abT) * xv) / Math.sqrt(1 - abT);
      const n1 = noisy && c > 0 ? rng.normal() : 0;
      const n2 = noisy && fresh > 0 ? rng.normal() : 0;
      return Math.sqrt(abS) * (xv + (u ? u.data[i]! : 0)) + keep * (dir * eps + c * n1) + fresh * n2;
    });
  }

  it.each([
    ['both noises', 0.5, 1, 0],
    ['fresh only (η = 0)', 1, 0, 0],
    ['DDIM only (ζ = 0)', 0, 1, 0],
    ['none (t ≤ t₀)', 0.5, 1, 900],
  ] as const)('%s: bit-identical to drawing n, n′ per element', (_name, zeta, eta, t0) => {
    const shape = [2, 3, 5, 7];
    const xt = tensor(shape),
      x = tensor(shape),
      u = tensor(shape);
    createRng(1).fillNormal(xt.data);
    createRng(2).fillNormal(x.data, 0.5);
    createRng(3).fillNormal(u.data, 0.1);
    const at = { t: 500, alphaBarT: 0.3, alphaBarS: 0.32, betaT: 0.01 };
    const p = { zeta, eta, t0, posteriorStd: 'ddim' as const };
    const got = noisingStep(xt, x, u, at, p, createRng(9, 'noise'));
    expect(Array.from(got.data)).toEqual(Array.from(reference(xt, x, u, at, p, 9)));
  });
});
