/**
 * `deblur-motion`: depthwise motion blur with a random camera-shake kernel and reflect padding,
 * y = K ⋆ reflectpad(x). Linear, with the exact FFT adjoint of conv.ts and a proxL2 solved by
 * circulant-preconditioned conjugate gradients (reflect padding makes A non-circulant, so there is
 * no closed form).
 */
import type { Shape, Tensor } from '../tensor/tensor';
import { batchOf, sizeOf, tensor } from '../tensor/tensor';
import { checkProx, linearOperator, mapBatch } from './batch';
import type { PcgOptions, PcgResult } from './conv';
import { createConv2d, solveConvProx } from './conv';
import { motionKernel } from './motionKernel';
import { scaleKernelSize } from './scaling';
import type { ForwardModel, OperatorSpec } from './types';
import { motionBlurParams } from '../../nodes/operatorParams';

// Plain zod rather than registry's `param` helpers: the registry imports this module.

/** How {@link motionBlurOperator} solves its prox, and a hook to observe each solve. */
export interface MotionProxOptions extends PcgOptions {
  /** Called after every per-sample PCG solve (iteration count and final residual). */
  onSolve?: (result: PcgResult) => void;
}

/**
 * A(x)_c = K ⋆ reflectpad(x_c) for a given k×k kernel on per-sample shape C×H×W, with
 * Aᵀ = transposed correlation + folded padding, vjp(x, v) = Aᵀv, and
 * proxL2(z, y, γ) = (AᵀA + I/γ)⁻¹(Aᵀy + z/γ) by PCG warm-started at z (y of batch 1 is broadcast).
 * @param kernel - k×k row-major, K[row·k + col]
 */
export function motionBlurOperator(
  kernel: Float32Array,
  k: number,
  shape: Shape,
  params: Readonly<Record<string, unknown>>,
  prox: MotionProxOptions = {},
  id = 'deblur-motion',
): ForwardModel {
  const [c, h, w] = shape as [number, number, number];
  const conv = createConv2d(kernel, k, h, w);
  const who = `operator ${id}`;
  const size = sizeOf(shape);
  const kernelTensor = tensor([1, 1, k, k], kernel.slice());
  return linearOperator({
    id,
    inShape: shape,
    outShape: shape,
    params,
    artifacts: { kernel: kernelTensor },
    apply: (x, result) => mapBatch(x, shape, shape, who, 'input x', (inp, out) => conv.apply(inp, out, c), result),
    adjoint: (y, result) => mapBatch(y, shape, shape, who, 'measurement y', (inp, out) => conv.adjoint(inp, out, c), result),
    proxMethod: 'iterative',
    proxL2(zt: Tensor, y: Tensor, gamma: number): Tensor {
      const n = checkProx({ id, inShape: shape, outShape: shape }, zt, y, gamma);
      const ny = batchOf(y, shape, who, 'measurement y');
      const out = tensor([n, ...shape]);
      const b = new Float64Array(size);
      let aty: Float64Array | undefined;
      for (let s = 0; s < n; s++) {
        // A broadcast y (batch 1) has one Aᵀy for every sample.
        if (!aty || ny > 1) {
          const j = ny > 1 ? s : 0;
          aty = new Float64Array(size);
          conv.adjoint(y.data.subarray(j * size, (j + 1) * size), aty, c);
        }
        const zs = zt.data.subarray(s * size, (s + 1) * size);
        for (let i = 0; i < size; i++) b[i] = aty[i]! + zs[i]! / gamma;
        const x = Float64Array.from(zs);
        const res = solveConvProx(conv, b, x, c, gamma, prox, who);
        prox.onSolve?.(res);
        out.data.set(x, s * size);
      }
      return out;
    },
    view: (y: Tensor): Tensor => y,
  });
}

/**
 * `deblur-motion`: y_c = K ⋆ reflectpad(x_c), K a seeded k×k camera-shake kernel (k = 61,
 * intensity 0.5 at 256 px). Linear, exact adjoint, proxL2 by preconditioned CG.
 */
export const motionBlur: OperatorSpec<typeof motionBlurParams> = {
  id: 'deblur-motion',
  title: 'Motion deblurring',
  summary: 'depthwise motion blur, random 61×61 camera-shake kernel, intensity 0.5 (at 256 px), reflect padding',
  doc:
    "y = K ⋆ x on every channel (cross-correlation, as torch conv2d), 'same' output size with reflect " +
    'padding (d c b | a b c d, repeated when the kernel is wider than the image). K is a random ' +
    'camera-shake kernel drawn from the instance seed: a momentum random walk (turning rate, speed, ' +
    'tremor and rare jerks all growing with the intensity; intensity 0 is a straight line) rasterised ' +
    'onto k×k, centred and normalised to sum 1 (motionKernel.ts documents the model). The papers ' +
    '(DPS/DAPS) use k = 61, intensity 0.5 at 256×256 with the kernels of the `motionblur` package; ' +
    'ours is an independent generator with the same two parameters, so individual kernels differ from ' +
    'theirs. Other sizes: k = the odd size nearest 61·s, s = min(H, W)/256 (at least 3; 64 px: 15), and ' +
    'the path length scales with k. Computed by FFT; proxL2 = (AᵀA + I/γ)⁻¹(Aᵀy + z/γ) by conjugate ' +
    'gradients preconditioned with the periodic (FFT-diagonal) approximation, to relative residual 1e-8 ' +
    '(about 4/10/35 iterations for γ = 0.05/1/20; hundreds beyond γ ≈ 1000, where the problem becomes a ' +
    'deconvolution), failing loudly if it does not converge within 500 iterations.',
  linear: true,
  seeded: true,
  capabilities: ['adjoint', 'vjp', 'proxL2'],
  params: motionBlurParams,
  defaults: (shape) => ({ kernelSize: scaleKernelSize(61, shape), intensity: 0.5 }),
  create(params, ctx) {
    const { kernelSize: k, intensity } = params;
    const kernel = motionKernel(k, intensity, ctx.rng.fork('kernel'));
    return motionBlurOperator(kernel, k, ctx.shape, { kernelSize: k, intensity });
  },
};
