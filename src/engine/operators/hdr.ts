/**
 * High dynamic range: A(x) = clip(scale·x, −1, 1) with scale 2 (DAPS hdr.yaml). Nonlinear and
 * piecewise linear: the VJP is scale·v where |scale·x| < 1 and 0 where the output saturates; it
 * is undefined only on the measure-zero set |scale·x| = 1, where 0 is used.
 */
import type { Shape, Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { mapBatch, mapBatch2 } from './batch';
import type { OperatorSpec } from './types';
import { hdrParams } from '../../nodes/operatorParams';

/** `hdr`: y = clip(scale·x, −1, 1). */
export const hdr: OperatorSpec<typeof hdrParams> = {
  id: 'hdr',
  title: 'High dynamic range',
  summary: 'A(x) = clip(2x, −1, 1): recover the highlights and shadows an over-exposed capture clipped',
  doc: 'A(x) = clip(s·x, −1, 1) with s = 2 (DAPS). VJP: s·v where |s·x| < 1, else 0 (defined almost everywhere). ' + 'No length to rescale with the image size.',
  linear: false,
  seeded: false,
  capabilities: ['vjp'],
  params: hdrParams,
  defaults: () => ({ scale: 2 }),
  create(p, ctx) {
    const s = p.scale;
    const shape: Shape = [...ctx.shape];
    const who = 'operator hdr';
    return {
      id: 'hdr',
      inShape: shape,
      outShape: shape,
      linear: false,
      params: { ...p },
      artifacts: {},
      apply: (x: Tensor, result?: Tensor) =>
        mapBatch(
          x,
          shape,
          shape,
          who,
          'input x',
          (inp, out) => {
            for (let i = 0; i < inp.length; i++) out[i] = Math.min(1, Math.max(-1, s * inp[i]!));
          },
          result,
        ),
      vjp: (x: Tensor, v: Tensor, result?: Tensor) =>
        mapBatch2(
          x,
          v,
          shape,
          shape,
          shape,
          who,
          (xi, vi, out) => {
            for (let i = 0; i < xi.length; i++) out[i] = Math.abs(s * xi[i]!) < 1 ? s * vi[i]! : 0;
          },
          result,
        ),
      view: (y: Tensor) => y,
    };
  },
  // Every pixel at least 0.02 from the kink |2x| = 1 (x = ±0.5) of the default scale, so central
  // differences never straddle it; about a third of the pixels saturate.
  testInput(shape, rng) {
    const t = tensor([1, ...shape]);
    for (let i = 0; i < t.data.length; i++) {
      const u = rng.uniform();
      const mag = u < 1 / 3 ? 0.52 + 0.4 * rng.uniform() : 0.48 * rng.uniform();
      t.data[i] = (rng.uniform() < 0.5 ? -1 : 1) * mag;
    }
    return t;
  },
};
