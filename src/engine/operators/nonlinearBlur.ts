/**
 * `deblur-nonlinear`: an honest stand-in for the papers' learned nonlinear blur. DPS/DAPS blur with
 * the bkse GOPRO network (KernelWizard), whose weights we cannot ship; this operator keeps the
 * task's character — a motion blur followed by a smooth, saturating, non-invertible pointwise
 * response and a small optical blur — with a closed form and an analytic VJP:
 *
 *   A(x)_c = K₂ ⋆ φ(K₁ ⋆ x_c),  φ(h) = tanh(βh)/tanh(β),
 *
 * both correlations with reflect padding. Results on this task are not comparable with the
 * papers' numbers.
 */
import type { Tensor } from '../tensor/tensor';
import { sizeOf, tensor } from '../tensor/tensor';
import { mapBatch, mapBatch2 } from './batch';
import { createConv2d } from './conv';
import { motionKernel } from './motionKernel';
import { scaleKernelSize, sizeScale } from './scaling';
import type { OperatorSpec } from './types';
import { nonlinearBlurParams } from '../../nodes/operatorParams';

// Plain zod rather than registry's `param` helpers: the registry imports this module.

/** φ(h) = tanh(βh)/tanh(β): smooth saturation with φ(±1) = ±1, φ'(0) = β/tanh β. */
export const saturate = (h: number, beta: number): number => Math.tanh(beta * h) / Math.tanh(beta);

/**
 * K₂(a, b) ∝ exp(−(a² + b²)/2σ²) on a k×k grid, k = 2⌈3σ⌉ + 1, normalised to sum 1.
 * @returns the kernel and its side
 */
export function gaussianKernel2d(sigma: number): { kernel: Float32Array; k: number } {
  const r = Math.ceil(3 * sigma),
    k = 2 * r + 1;
  const g = Array.from({ length: k }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  const kernel = new Float32Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) kernel[a * k + b] = (g[a]! * g[b]!) / (s * s);
  return { kernel, k };
}

/**
 * `deblur-nonlinear` (stand-in): A(x)_c = K₂ ⋆ φ(K₁ ⋆ x_c), K₁ a seeded motion kernel (31 px,
 * intensity 0.5 at 256 px), φ(h) = tanh(βh)/tanh(β) with β = 1.5, K₂ a Gaussian with σ = 1.5 px
 * at 256 px. Nonlinear, analytic VJP K₁ᵀ(φ'(K₁x) ⊙ K₂ᵀv).
 */
export const nonlinearBlur: OperatorSpec<typeof nonlinearBlurParams> = {
  id: 'deblur-nonlinear',
  title: 'Nonlinear deblurring (stand-in)',
  summary: 'STAND-IN for the learned bkse/GOPRO blur: motion blur → tanh saturation → Gaussian blur',
  doc:
    "A STAND-IN, not the papers' operator. DPS/DAPS use a learned GOPRO blur network (bkse " +
    'KernelWizard with a fixed random latent kernel) whose weights cannot be shipped; this operator ' +
    'keeps the character of the task — blur that is not linear in the image — with a closed form: ' +
    'A(x) = K₂ ⋆ φ(K₁ ⋆ x) on every channel, K₁ a seeded camera-shake kernel (same generator as ' +
    'deblur-motion), φ(h) = tanh(βh)/tanh(β) a smooth saturation mapping [−1, 1] onto [−1, 1], K₂ a ' +
    'normalised Gaussian (side 2⌈3σ⌉ + 1), both correlations with reflect padding. At 256×256: K₁ 31×31 ' +
    "with intensity 0.5, β = 1.5, σ = 1.5; other sizes scale K₁'s side to the odd size nearest 31·s " +
    '(at least 9) and σ to 1.5·s (at least 1), s = min(H, W)/256. Its VJP is analytic, ' +
    "K₁ᵀ(φ'(K₁x) ⊙ K₂ᵀv); there is no adjoint or prox. Numbers on this task are not comparable with " +
    "the papers'. A learned blur can replace it later as a user-supplied ONNX operator: the " +
    'ForwardModel contract (apply, vjp, shapes) is all a replacement must satisfy.',
  linear: false,
  seeded: true,
  capabilities: ['vjp'],
  params: nonlinearBlurParams,
  // Floors as for the other blurs: at 32 px the scaled 5-tap K₁ and σ = 0.5 left y at 23.3 dB, better
  // than the prior-free baseline; K₁ ≥ 9 (as deblur-motion at 32 px) and σ ≥ 1 give 18.6 dB.
  defaults: (shape) => ({
    kernelSize: Math.max(9, scaleKernelSize(31, shape)),
    intensity: 0.5,
    beta: 1.5,
    blurSigma: Math.max(1, 1.5 * sizeScale(shape)),
  }),
  create(params, ctx) {
    const { kernelSize: k1, intensity, beta, blurSigma } = params;
    const shape = ctx.shape;
    const [c, h, w] = shape as [number, number, number];
    const kernel1 = motionKernel(k1, intensity, ctx.rng.fork('kernel'));
    const { kernel: kernel2, k: k2 } = gaussianKernel2d(blurSigma);
    const conv1 = createConv2d(kernel1, k1, h, w);
    const conv2 = createConv2d(kernel2, k2, h, w);
    const id = 'deblur-nonlinear',
      who = `operator ${id}`;
    const size = sizeOf(shape);
    const tb = Math.tanh(beta);
    const hidden = new Float64Array(size),
      mid = new Float64Array(size);
    return {
      id,
      inShape: shape,
      outShape: shape,
      linear: false,
      params: { kernelSize: k1, intensity, beta, blurSigma },
      artifacts: { kernel1: tensor([1, 1, k1, k1], kernel1.slice()), kernel2: tensor([1, 1, k2, k2], kernel2.slice()) },
      apply: (x: Tensor, result?: Tensor): Tensor =>
        mapBatch(
          x,
          shape,
          shape,
          who,
          'input x',
          (inp, out) => {
            conv1.apply(inp, hidden, c);
            for (let i = 0; i < size; i++) mid[i] = Math.tanh(beta * hidden[i]!) / tb;
            conv2.apply(mid, out, c);
          },
          result,
        ),
      vjp: (x: Tensor, v: Tensor, result?: Tensor): Tensor =>
        mapBatch2(
          x,
          v,
          shape,
          shape,
          shape,
          who,
          (xs, vs, out) => {
            conv1.apply(xs, hidden, c);
            conv2.adjoint(vs, mid, c);
            // φ'(h) = β(1 − tanh²(βh))/tanh β
            for (let i = 0; i < size; i++) {
              const t = Math.tanh(beta * hidden[i]!);
              mid[i] = (mid[i]! * beta * (1 - t * t)) / tb;
            }
            conv1.adjoint(mid, out, c);
          },
          result,
        ),
      view: (y: Tensor): Tensor => y,
    };
  },
};
