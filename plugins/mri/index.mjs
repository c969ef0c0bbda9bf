// @ts-check
/**
 * Single-coil Cartesian MRI for Lagrange: A = M S F, with F the orthonormal 2-D DFT (the engine's
 * FFT through `api.fft`), S the centring shift (zero frequency at row ⌊H/2⌋, column ⌊W/2⌋) and M a
 * mask of phase-encode lines (whole k-space rows), drawn once from the operator's seed. k-space is
 * returned as two real channels (real, imaginary) of the full H×W grid, zero on unsampled lines.
 * Images are real, so the adjoint is Aᵀy = Re(Fᴴ Sᵀ Mᵀ (y_re + i·y_im)); it is the zero-filled
 * reconstruction. Everything comes through the engine's plugin `api`; nothing is imported.
 */

/** @typedef {{ readonly shape: readonly number[], readonly data: Float32Array }} Tensor */
/** @typedef {{ acceleration: number, centerFraction: number, densityPower: number }} MriParams */
/**
 * The part of the engine's `PluginApi` (src/engine/plugin/api.ts, API version 1) this plugin uses.
 * @typedef {object} PluginApi
 * @property {number} apiVersion
 * @property {any} z the engine's zod
 * @property {(shape: readonly number[], data?: Float32Array) => Tensor} tensor
 * @property {{ fft2(data: Float64Array, h: number, w: number, inverse?: boolean, norm?: 'backward' | 'ortho'): void, fftshift2(data: Float64Array, h: number, w: number, stride?: number, inverse?: boolean): Float64Array }} fft
 * @property {(spec: OperatorSpec) => void} registerOperator
 */
/**
 * The engine's OperatorSpec (src/engine/operators/types.ts) with this plugin's parameters, plus its node kind.
 * @typedef {object} OperatorSpec
 * @property {string} id
 * @property {string} title
 * @property {string} summary
 * @property {string} doc
 * @property {boolean} linear
 * @property {boolean} seeded
 * @property {('adjoint' | 'vjp' | 'proxL2')[]} capabilities
 * @property {unknown} params zod object of the complete parameters
 * @property {(shape: readonly number[]) => MriParams} defaults
 * @property {(shape: readonly number[]) => string | undefined} [checkShape]
 * @property {(p: MriParams, ctx: { shape: readonly number[], seed: number, rng: { uniform(): number } }) => object} create
 * @property {{ kind: string, title?: string }} node
 */
/** @typedef {{ uniform(): number }} Rng */

/** Operator id (the task id of `lagrange simulate --task mri`). */
export const MRI_ID = 'mri';

/**
 * The phase-encode lines of an H-line k-space (index ⌊H/2⌋ = zero frequency): the round(H·centerFraction)
 * lines around the centre (at least 1), then lines drawn without replacement with probability ∝ 1/d^p,
 * d = distance to the centre in lines, until round(H/acceleration) lines are sampled.
 * @param {number} h
 * @param {MriParams} p
 * @param {Rng} rng
 * @returns {Uint8Array} 1 on sampled lines
 */
export function lineMask(h, p, rng) {
  const total = Math.max(1, Math.round(h / p.acceleration));
  const centre = Math.min(total, Math.max(1, Math.round(h * p.centerFraction)));
  const c0 = Math.floor(h / 2);
  const mask = new Uint8Array(h);
  const first = c0 - Math.floor(centre / 2);
  for (let i = first; i < first + centre; i++) mask[i] = 1;
  const weight = new Float64Array(h);
  for (let i = 0; i < h; i++) weight[i] = mask[i] ? 0 : Math.abs(i - c0) ** -p.densityPower;
  for (let drawn = centre; drawn < total; drawn++) {
    let sum = 0;
    for (const v of weight) sum += v;
    // Inverse-CDF draw over the lines not taken yet.
    let u = rng.uniform() * sum,
      pick = -1;
    for (let i = 0; i < h && pick < 0; i++) {
      u -= /** @type {number} */ (weight[i]);
      if (u < 0 && /** @type {number} */ (weight[i]) > 0) pick = i;
    }
    if (pick < 0) pick = weight.findLastIndex((v) => v > 0); // rounding left u ≥ 0
    mask[pick] = 1;
    weight[pick] = 0;
  }
  return mask;
}

/**
 * Checks that `t` is N×`sample` and returns N; the error names the operator, the port and both shapes.
 * @param {Tensor} t
 * @param {readonly number[]} sample
 * @param {string} what
 */
function batchOf(t, sample, what) {
  const ok = t.shape.length === sample.length + 1 && sample.every((d, i) => t.shape[i + 1] === d) && (t.shape[0] ?? 0) >= 1;
  if (!ok) throw new Error(`operator ${MRI_ID}: ${what} must have shape N×${sample.join('×')}, got ${t.shape.join('×') || 'scalar'}`);
  return /** @type {number} */ (t.shape[0]);
}

/**
 * Registers the `mri` operator and its node kind `CartesianMRI`.
 * @param {PluginApi} api
 */
export default function register(api) {
  const z = api.z;
  const { fft2, fftshift2 } = api.fft;
  const params = z.object({
    acceleration: z.number().min(1).max(64).describe('H / sampled lines: 4 keeps a quarter of the phase-encode lines'),
    centerFraction: z.number().gt(0).max(1).describe('share of the lines fully sampled around the zero frequency'),
    densityPower: z.number().min(0).max(8).describe('p of the outer lines’ sampling density ∝ 1/distanceᵖ (0: uniform)'),
  });

  api.registerOperator({
    id: MRI_ID,
    title: 'Cartesian MRI',
    summary: 'A = M F: orthonormal 2-D DFT, 1 in 4 phase-encode lines (8 % centre, density ∝ 1/d), complex k-space as 2 channels',
    doc:
      'y = M S F x: F the orthonormal 2-D DFT of the real image, S the shift putting the zero frequency at row ⌊H/2⌋, ' +
      'M keeps round(H/acceleration) whole rows (phase-encode lines, default acceleration 4): round(H·centerFraction) around ' +
      'the centre (default 8 %), the rest drawn without replacement from the operator seed with probability ∝ 1/dᵖ ' +
      '(d: distance to the centre in lines, densityPower p = 1). Output 2×H×W: real and imaginary parts, zero on unsampled ' +
      'lines. A acts linearly on x ∈ [−1, 1]. Adjoint: Re(Fᴴ Sᵀ Mᵀ (y_re + i·y_im)), the zero-filled reconstruction. ' +
      'Single-channel images only; the view is log(1 + |k|/(10⁻³·max|k|)) rescaled to [−1, 1] per sample.',
    linear: true,
    seeded: true,
    capabilities: ['adjoint', 'vjp'],
    params,
    defaults: () => ({ acceleration: 4, centerFraction: 0.08, densityPower: 1 }),
    checkShape: (shape) => (shape[0] === 1 ? undefined : `MRI takes real single-channel images (C = 1), got ${shape.join('×')}; convert to gray first (e.g. --prior fmnist-32)`),
    create(p, ctx) {
      const [, h, w] = /** @type {[number, number, number]} */ (ctx.shape);
      const lines = lineMask(h, p, ctx.rng);
      const hw = h * w;
      const mask = new Float32Array(hw);
      for (let i = 0; i < h; i++) if (lines[i]) mask.fill(1, i * w, (i + 1) * w);
      const inShape = [1, h, w],
        outShape = [2, h, w];
      const g = new Float64Array(2 * hw);
      /**
       * @param {Tensor} x
       * @param {Tensor | undefined} out
       */
      const apply = (x, out) => {
        const n = batchOf(x, inShape, 'input x');
        const y = out ?? api.tensor([n, ...outShape]);
        batchOf(y, outShape, 'output');
        for (let s = 0; s < n; s++) {
          g.fill(0);
          for (let q = 0; q < hw; q++) g[2 * q] = /** @type {number} */ (x.data[s * hw + q]);
          fft2(g, h, w, false, 'ortho');
          const k = fftshift2(g, h, w, 2);
          const o = 2 * s * hw;
          for (let q = 0; q < hw; q++) {
            const m = /** @type {number} */ (mask[q]);
            y.data[o + q] = m * /** @type {number} */ (k[2 * q]);
            y.data[o + hw + q] = m * /** @type {number} */ (k[2 * q + 1]);
          }
        }
        return y;
      };
      /**
       * @param {Tensor} y
       * @param {Tensor | undefined} out
       */
      const adjoint = (y, out) => {
        const n = batchOf(y, outShape, 'measurement y');
        const x = out ?? api.tensor([n, ...inShape]);
        batchOf(x, inShape, 'output');
        for (let s = 0; s < n; s++) {
          const o = 2 * s * hw;
          for (let q = 0; q < hw; q++) {
            const m = /** @type {number} */ (mask[q]);
            g[2 * q] = m * /** @type {number} */ (y.data[o + q]);
            g[2 * q + 1] = m * /** @type {number} */ (y.data[o + hw + q]);
          }
          const k = fftshift2(g, h, w, 2, true);
          fft2(k, h, w, true, 'ortho');
          for (let q = 0; q < hw; q++) x.data[s * hw + q] = /** @type {number} */ (k[2 * q]);
        }
        return x;
      };
      return {
        id: MRI_ID,
        inShape,
        outShape,
        linear: true,
        params: { ...p },
        artifacts: { mask: api.tensor([1, 1, h, w], mask) },
        apply,
        adjoint,
        /**
         * (∂A/∂x)ᵀ v = Aᵀ v for the linear A.
         * @param {Tensor} x
         * @param {Tensor} v
         * @param {Tensor} [out]
         */
        vjp(x, v, out) {
          if (batchOf(x, inShape, 'input x') !== batchOf(v, outShape, 'cotangent v')) throw new Error(`operator ${MRI_ID}: x and v have different batch sizes`);
          return adjoint(v, out);
        },
        /** log(1 + |k|/(10⁻³·max|k|)) rescaled to [−1, 1] per sample, 1×H×W. @param {Tensor} y */
        view(y) {
          const n = batchOf(y, outShape, 'measurement y');
          const v = api.tensor([n, 1, h, w]);
          const mag = new Float64Array(hw);
          for (let s = 0; s < n; s++) {
            let top = 0;
            for (let q = 0; q < hw; q++) {
              mag[q] = Math.hypot(/** @type {number} */ (y.data[2 * s * hw + q]), /** @type {number} */ (y.data[(2 * s + 1) * hw + q]));
              top = Math.max(top, /** @type {number} */ (mag[q]));
            }
            const lg = top > 0 ? Math.log1p(1e3) : 1;
            for (let q = 0; q < hw; q++) v.data[s * hw + q] = top > 0 ? (2 * Math.log1p((1e3 * /** @type {number} */ (mag[q])) / top)) / lg - 1 : -1;
          }
          return v;
        },
      };
    },
    node: { kind: 'CartesianMRI', title: 'Cartesian MRI' },
  });
}
