/**
 * `sr4`: ×4 super-resolution, y = R x Cᵀ per channel, where R and C are MATLAB-`imresize` bicubic
 * downsampling matrices (antialiased, as the DPS/DAPS `Resizer`). Also the general bicubic resize
 * the CLI uses for `--size`.
 */
import type { Shape, Tensor } from '../tensor/tensor';
import { batchOf, ShapeError, shapeStr, tensor } from '../tensor/tensor';
import type { SparseRows } from './separable';
import { applySeparable, separableOperator, sparseRows } from './separable';
import type { OperatorSpec } from './types';
import { superResolutionParams } from '../../nodes/operatorParams';

/** Keys cubic kernel with a = −0.5 (MATLAB's and the Resizer's `cubic`). */
function cubic(t: number): number {
  const a = Math.abs(t),
    a2 = a * a,
    a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

/** MATLAB's symmetric boundary: index k (0-based) reflected with the edge sample repeated, period 2n. */
function mirror(k: number, n: number): number {
  const m = ((k % (2 * n)) + 2 * n) % (2 * n);
  return m < n ? m : 2 * n - 1 - m;
}

/**
 * W (nOut×nIn) with W_ij = h(u_i − j)/Σ_j h(u_i − j), u_i = (i + ½)/s − ½, s = nOut/nIn: MATLAB
 * `imresize` bicubic. When shrinking (s < 1) the kernel is widened for antialiasing,
 * h(t) = s·cubic(s·t) over 4/s taps; when enlarging it is the plain cubic over 4 taps. Taps outside
 * the image are mirrored with the edge sample repeated (MATLAB's symmetric handling).
 * @param nIn - input length (pixels)
 * @param nOut - output length (pixels)
 */
export function bicubicResizeMatrix(nIn: number, nOut: number): SparseRows {
  if (!Number.isInteger(nIn) || !Number.isInteger(nOut) || nIn < 1 || nOut < 1) {
    throw new RangeError(`bicubicResizeMatrix: lengths must be positive integers, got ${nIn} → ${nOut}`);
  }
  const s = nOut / nIn;
  const shrink = s < 1;
  const width = shrink ? 4 / s : 4;
  const taps = Math.ceil(width) + 2;
  const rows: [number, number][][] = [];
  for (let i = 1; i <= nOut; i++) {
    // MATLAB's 1-based coordinates: output pixel i sits at input position u.
    const u = i / s + 0.5 * (1 - 1 / s);
    const left = Math.floor(u - width / 2);
    const entries: [number, number][] = [];
    let sum = 0;
    for (let p = 0; p < taps; p++) {
      const j = left + p;
      const wt = shrink ? s * cubic(s * (u - j)) : cubic(u - j);
      entries.push([mirror(j - 1, nIn), wt]);
      sum += wt;
    }
    rows.push(entries.map(([j, wt]) => [j, wt / sum]));
  }
  return sparseRows(nIn, rows);
}

/**
 * x ↦ R x Cᵀ with R = bicubicResizeMatrix(H, h), C = bicubicResizeMatrix(W, w): MATLAB-style
 * bicubic resize (antialiased when shrinking) of every H×W plane of `x` (N×C×H×W or C×H×W).
 */
export function resizeImage(x: Tensor, h: number, w: number): Tensor {
  if (x.shape.length < 2) throw new ShapeError(`resizeImage: input must be …×H×W, got ${shapeStr(x.shape)}`);
  const hIn = x.shape[x.shape.length - 2]!,
    wIn = x.shape[x.shape.length - 1]!;
  const r = bicubicResizeMatrix(hIn, h);
  const c = hIn === wIn && h === w ? r : bicubicResizeMatrix(wIn, w);
  return applySeparable(r, c, x);
}

/** The papers' ×4, at every image size (the output keeps 1/4 of the side). */
const DEFAULT_FACTOR = 4;

const divisibility = (shape: Shape, f: number): string | undefined => {
  const [, h, w] = shape as [number, number, number];
  return h % f === 0 && w % f === 0 ? undefined : `H and W must be divisible by the factor ${f}, got H=${h}, W=${w}`;
};

/**
 * `sr4`: y = R x Cᵀ per channel, R = bicubicResizeMatrix(H, H/f), C = bicubicResizeMatrix(W, W/f).
 * Linear, with exact adjoint and closed-form proxL2 (eigendecompositions of RᵀR, CᵀC).
 */
export const superResolution: OperatorSpec<typeof superResolutionParams> = {
  id: 'sr4',
  title: 'Super-resolution ×4',
  summary: 'bicubic ×4 downsampling (MATLAB imresize, antialiased), 256→64',
  doc:
    'y = R x Cᵀ on every channel, where R (H/f×H) and C (W/f×W) are MATLAB-imresize bicubic ' +
    'downsampling matrices as in the DPS/DAPS Resizer: the Keys cubic (a = −0.5) widened by f for ' +
    'antialiasing (h(t) = cubic(t/f)/f over 4f taps), weights normalised per output pixel, output ' +
    'pixel i centred at input position (i + ½)f − ½, taps outside the image mirrored with the edge ' +
    'sample repeated. The papers use f = 4 on 256×256 images (256→64); the factor stays 4 at every ' +
    'image size (a 64 px image gives a 16 px measurement), so H and W must be divisible by 4. ' +
    'The measurement is shown upsampled by nearest neighbour to the image size.',
  linear: true,
  seeded: false,
  capabilities: ['adjoint', 'vjp', 'proxL2'],
  params: superResolutionParams,
  defaults: () => ({ factor: DEFAULT_FACTOR }),
  checkShape: (shape) => divisibility(shape, DEFAULT_FACTOR),
  create(params, ctx) {
    const f = params.factor;
    const bad = divisibility(ctx.shape, f);
    if (bad) throw new ShapeError(`operator sr4: ${bad} (image ${shapeStr(ctx.shape)})`);
    const [ch, h, w] = ctx.shape as [number, number, number];
    const r = bicubicResizeMatrix(h, h / f);
    const c = h === w ? r : bicubicResizeMatrix(w, w / f);
    const outShape: Shape = [ch, h / f, w / f];
    return separableOperator({
      id: 'sr4',
      inShape: ctx.shape,
      rows: r,
      cols: c,
      params: { factor: f },
      artifacts: {},
      view(y: Tensor): Tensor {
        // Nearest-neighbour ×f so the low-res image shows at image size.
        const n = batchOf(y, outShape, 'operator sr4', 'measurement y');
        const out = tensor([n, ch, h, w]);
        const ho = h / f,
          wo = w / f;
        for (let p = 0; p < n * ch; p++) {
          for (let i = 0; i < h; i++) {
            const src = p * ho * wo + Math.floor(i / f) * wo,
              dst = p * h * w + i * w;
            for (let j = 0; j < w; j++) out.data[dst + j] = y.data[src + Math.floor(j / f)]!;
          }
        }
        return out;
      },
    });
  },
};
