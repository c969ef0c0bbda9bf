/**
 * The Gaussian prior N(μ, diag(s²)) with a per-pixel mean image μ and per-pixel std s. Pixels are
 * independent, so under x_t = √ᾱ x₀ + √(1−ᾱ) n each is a 1-D Gaussian problem with
 *   x̂₀ᵢ = μᵢ + cᵢ (x_t,ᵢ − √ᾱ μᵢ),  cᵢ = √ᾱ sᵢ²/(ᾱ sᵢ² + 1 − ᾱ),
 * and the denoiser's Jacobian is diag(c): its VJP is cᵢ vᵢ. With one std for every pixel this
 * is the one-component mixture of `gaussianMixture.ts`, which {@link gaussianImagePrior} returns
 * instead, since that form also has an ONNX lowering.
 */
import { epsFromX0 } from '../diffusion/vp';
import { loadImage } from '../io/prepare';
import type { VPSchedule } from '../diffusion/schedule';
import { linearSchedule } from '../diffusion/schedule';
import type { Shape, Tensor } from '../tensor/tensor';
import { batchOf, sameShape, shapeStr, sizeOf, tensor, zerosLike } from '../tensor/tensor';
import { gaussianMixturePrior } from './gaussianMixture';
import type { ScoreModel } from './types';

/** A score model that is the diagonal Gaussian N(mean, diag(std²)); the oracle reads `diagonal`. */
export interface DiagonalGaussianPrior extends ScoreModel {
  readonly diagonal: { readonly mean: Float32Array; readonly std: Float32Array };
  denoiseVjp(xt: Tensor, t: number, v: Tensor): Promise<Tensor>;
}

/** Options of {@link gaussianImagePrior}. */
export interface GaussianPriorOptions {
  id?: string;
  /** Per-sample shape C×H×W. */
  shape: Shape;
  /** Mean image μ, C·H·W values. */
  mean: Float32Array;
  /** Std s > 0: one value for every pixel, or C·H·W values (image units). */
  std: number | Float32Array;
  schedule?: VPSchedule;
}

/** The per-pixel Gaussian prior N(μᵢ, sᵢ²) with exact ε-prediction and exact denoiser VJP. */
export function diagonalGaussianPrior(opts: GaussianPriorOptions & { std: Float32Array }): DiagonalGaussianPrior {
  const { shape } = opts;
  const d = sizeOf(shape);
  const id = opts.id ?? 'gaussian';
  const who = `prior ${id}`;
  if (opts.mean.length !== d) throw new RangeError(`${who}: the mean image has ${opts.mean.length} values, expected ${shapeStr(shape)} = ${d}`);
  if (opts.std.length !== d) throw new RangeError(`${who}: the std image has ${opts.std.length} values, expected ${shapeStr(shape)} = ${d}`);
  const bad = opts.std.findIndex((s) => !(s > 0) || !Number.isFinite(s));
  if (bad >= 0) throw new RangeError(`${who}: std must be finite and > 0 at every pixel; pixel ${bad} is ${opts.std[bad]}`);
  const mean = Float32Array.from(opts.mean),
    std = Float32Array.from(opts.std);
  const schedule = opts.schedule ?? linearSchedule();

  /** cᵢ at ᾱ, in float64. */
  function gains(ab: number): Float64Array {
    const c = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const s2 = std[i]! * std[i]!;
      c[i] = (Math.sqrt(ab) * s2) / (ab * s2 + 1 - ab);
    }
    return c;
  }

  return {
    id,
    shape: [...shape],
    schedule,
    provider: 'analytic',
    diagonal: { mean, std },
    async predictEps(xt: Tensor, t: number): Promise<Tensor> {
      const n = batchOf(xt, shape, who, 'x_t');
      const ab = schedule.alphaBarAt(t),
        sa = Math.sqrt(ab);
      const c = gains(ab);
      const x0 = zerosLike(xt);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < d; i++) x0.data[s * d + i] = mean[i]! + c[i]! * (xt.data[s * d + i]! - sa * mean[i]!);
      }
      return epsFromX0(xt, x0, ab, x0);
    },
    async denoiseVjp(xt: Tensor, t: number, v: Tensor): Promise<Tensor> {
      const n = batchOf(xt, shape, who, 'x_t');
      if (!sameShape(v.shape, xt.shape)) throw new RangeError(`${who}: v must have the shape of x_t ${shapeStr(xt.shape)}, got ${shapeStr(v.shape)}`);
      const c = gains(schedule.alphaBarAt(t));
      const out = tensor(xt.shape);
      for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) out.data[s * d + i] = c[i]! * v.data[s * d + i]!;
      return out;
    },
  };
}

/**
 * The Gaussian prior N(μ, diag(s²)): the isotropic one-component mixture when `std` is one number,
 * else {@link diagonalGaussianPrior}.
 */
export function gaussianImagePrior(opts: GaussianPriorOptions): ScoreModel {
  const { std, ...rest } = opts;
  if (typeof std !== 'number') return diagonalGaussianPrior({ ...rest, std });
  return gaussianMixturePrior({
    id: opts.id ?? 'gaussian',
    shape: opts.shape,
    components: [{ weight: 1, mean: opts.mean, std }],
    ...(opts.schedule ? { schedule: opts.schedule } : {}),
  });
}

/** What {@link gaussianFromImages} reads: constants, or images that replace them. */
export interface GaussianImageSources {
  shape: Shape;
  mean: number;
  std: number;
  /** Mean image: an image source (`sample:<name>`, .png, .npy) of exactly shape C×H×W. */
  meanImage?: string;
  /** Std image: an .npy of C×H×W values > 0. */
  stdImage?: string;
}

/**
 * The Gaussian prior with a mean image and/or a std image read from disk. Neither is resized:
 * a resampled mean would silently be another prior, so a size mismatch is an error.
 */
export async function gaussianFromImages(o: GaussianImageSources): Promise<ScoreModel> {
  const d = sizeOf(o.shape);
  const read = async (what: string, src: string): Promise<Float32Array> => {
    const t = await loadImage(src);
    if (!sameShape(t.shape.slice(1), o.shape)) throw new RangeError(`${what} ${src} is ${shapeStr(t.shape.slice(1))}, but the measurement's image is ${shapeStr(o.shape)}`);
    return t.data;
  };
  // A PNG holds values in [−1, 1], which are not standard deviations.
  if (o.stdImage !== undefined && !/\.npy$/i.test(o.stdImage)) throw new RangeError(`stdImage ${o.stdImage}: expected an .npy file of per-pixel stds (> 0)`);
  const mean = o.meanImage !== undefined ? await read('meanImage', o.meanImage) : new Float32Array(d).fill(o.mean);
  const std = o.stdImage !== undefined ? await read('stdImage', o.stdImage) : o.std;
  return gaussianImagePrior({ id: 'gaussian', shape: o.shape, mean, std });
}
