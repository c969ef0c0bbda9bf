/**
 * Inpainting: A(x) = m ⊙ x with a {0,1} mask m per pixel, shared over channels. Self-adjoint, so
 * Aᵀ = A, and proxL2 is element-wise: x = (m⊙y + z/γ)/(m + 1/γ).
 * Two masks from the DDiff/DAPS suite: a box (128×128 at 256 px, random position with a margin of
 * 32 px, or centred) and random pixels (70 % missing, exact count).
 */
import type { Rng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { batchOf, tensor } from '../tensor/tensor';
import { checkProx, linearOperator, mapBatch } from './batch';
import { scaleLength } from './scaling';
import type { ForwardModel, OperatorSpec } from './types';
import { boxInpaintingParams, randomInpaintingParams } from '../../nodes/operatorParams';

/** Value that marks missing pixels in the y.png view: mid-grey (0 in [−1, 1]). */
export const HOLE_VIEW_VALUE = 0;

/** A = diag(m) for a H×W mask shared by all channels. */
function maskOperator(id: string, shape: Shape, mask: Float32Array, params: Record<string, unknown>): ForwardModel {
  const [c, h, w] = shape as [number, number, number];
  const hw = h * w;
  const who = `operator ${id}`;
  const masked = (x: Tensor, what: string, result?: Tensor): Tensor =>
    mapBatch(
      x,
      shape,
      shape,
      who,
      what,
      (inp, out) => {
        for (let k = 0; k < c; k++) for (let i = 0; i < hw; i++) out[k * hw + i] = mask[i]! * inp[k * hw + i]!;
      },
      result,
    );
  const op = {
    id,
    inShape: [...shape],
    outShape: [...shape],
    params,
    artifacts: { mask: tensor([1, 1, h, w], mask) },
    apply: (x: Tensor, out?: Tensor) => masked(x, 'input x', out),
    adjoint: (y: Tensor, out?: Tensor) => masked(y, 'measurement y', out),
    proxMethod: 'closed-form' as const,
    proxL2(zt: Tensor, y: Tensor, gamma: number): Tensor {
      const n = checkProx(op, zt, y, gamma);
      const ny = batchOf(y, shape, who, 'measurement y');
      const size = c * hw;
      const out = tensor(zt.shape);
      for (let s = 0; s < n; s++) {
        const yo = (ny === 1 ? 0 : s) * size;
        for (let k = 0; k < c; k++) {
          for (let i = 0; i < hw; i++) {
            const j = s * size + k * hw + i;
            const m = mask[i]!;
            out.data[j] = (m * y.data[yo + k * hw + i]! + zt.data[j]! / gamma) / (m + 1 / gamma);
          }
        }
      }
      return out;
    },
    view(y: Tensor): Tensor {
      const v = masked(y, 'measurement y');
      const n = v.shape[0]!;
      for (let s = 0; s < n; s++) for (let k = 0; k < c; k++) for (let i = 0; i < hw; i++) if (mask[i] === 0) v.data[(s * c + k) * hw + i] = HOLE_VIEW_VALUE;
      return v;
    },
  };
  return linearOperator(op);
}

/** Box inpainting, `inpaint-box`. */
export const inpaintBox: OperatorSpec<typeof boxInpaintingParams> = {
  id: 'inpaint-box',
  title: 'Box inpainting',
  summary: 'A(x) = m⊙x with a missing box of half the side (128×128 at 256 px), random position or centred',
  doc:
    'A(x) = m ⊙ x where m is 0 inside a box and 1 elsewhere, the same for every channel. At 256 px the box is ' +
    '128×128 (DAPS mask_len_range [128, 129]); with placement "random" its top-left corner is drawn uniformly from ' +
    'the seed so that the box stays at least `margin` = 32 px from every border (DAPS; the DDiff code uses 16). ' +
    'Lengths scale with min(H, W)/256. Self-adjoint; proxL2 is element-wise.',
  linear: true,
  seeded: true,
  capabilities: ['adjoint', 'vjp', 'proxL2'],
  params: boxInpaintingParams,
  defaults: (shape) => ({
    placement: 'random',
    boxHeight: Math.round(shape[1]! / 2),
    boxWidth: Math.round(shape[2]! / 2),
    margin: scaleLength(32, shape, 0),
  }),
  create(p, ctx) {
    const [, h, w] = ctx.shape as [number, number, number];
    const who = 'operator inpaint-box';
    if (p.boxHeight > h || p.boxWidth > w) throw new RangeError(`${who}: box ${p.boxHeight}×${p.boxWidth} does not fit the image ${h}×${w}`);
    const topRange = h - p.boxHeight - 2 * p.margin,
      leftRange = w - p.boxWidth - 2 * p.margin;
    if (p.placement === 'random' && (topRange < 0 || leftRange < 0)) {
      throw new RangeError(`${who}: box ${p.boxHeight}×${p.boxWidth} with margin ${p.margin} does not fit the image ${h}×${w}`);
    }
    const rng: Rng = ctx.rng.fork('box');
    const top = p.placement === 'center' ? Math.floor((h - p.boxHeight) / 2) : p.margin + rng.int(topRange + 1);
    const left = p.placement === 'center' ? Math.floor((w - p.boxWidth) / 2) : p.margin + rng.int(leftRange + 1);
    const mask = new Float32Array(h * w).fill(1);
    for (let r = top; r < top + p.boxHeight; r++) mask.fill(0, r * w + left, r * w + left + p.boxWidth);
    return maskOperator('inpaint-box', ctx.shape, mask, { ...p, top, left, seed: ctx.seed });
  },
};

/** Random-pixel inpainting, `inpaint-random`. */
export const inpaintRandom: OperatorSpec<typeof randomInpaintingParams> = {
  id: 'inpaint-random',
  title: 'Random inpainting',
  summary: 'A(x) = m⊙x with 70 % of the pixels missing at random (shared over channels)',
  doc:
    'A(x) = m ⊙ x where exactly round(missing·H·W) pixels, chosen uniformly from the seed (a random permutation), ' +
    'are 0 in every channel (DAPS mask_prob_range [0.70, 0.71]). No length to rescale. Self-adjoint; proxL2 is element-wise.',
  linear: true,
  seeded: true,
  capabilities: ['adjoint', 'vjp', 'proxL2'],
  params: randomInpaintingParams,
  defaults: () => ({ missing: 0.7 }),
  create(p, ctx) {
    const [, h, w] = ctx.shape as [number, number, number];
    const n = h * w;
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    const rng = ctx.rng.fork('pixels');
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    const mask = new Float32Array(n).fill(1);
    const missing = Math.round(p.missing * n);
    for (let i = 0; i < missing; i++) mask[perm[i]!] = 0;
    return maskOperator('inpaint-random', ctx.shape, mask, { ...p, seed: ctx.seed });
  },
};
