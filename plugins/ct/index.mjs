// @ts-check
/**
 * Sparse-view parallel-beam CT for Lagrange: A = the discrete Radon transform R of a single-channel
 * image, computed ray by ray with Joseph's method (one sample per row or column along each ray,
 * linear interpolation between the two nearest pixels), and its exact transpose Rᵀ (unfiltered
 * back-projection). Both walk the same weights in one routine, so Rᵀ is R's transpose by
 * construction. Everything comes through the engine's plugin `api`; nothing is imported.
 *
 * Geometry: pixel centres at x = j − (W−1)/2, y = (H−1)/2 − i (pixel units); the ray of angle θ
 * and detector offset s is {s·(cos θ, sin θ) + t·(−sin θ, cos θ)}; detector bins are 1 px wide and
 * centred, s_k = k − (D−1)/2. A line integral is measured in units of the image side
 * L = max(H, W), so a ray across a full row of ones reads 1 and y stays O(1) like the images.
 */

/** @typedef {{ readonly shape: readonly number[], readonly data: Float32Array }} Tensor */
/** @typedef {{ angles: number, span: number, detectors: number }} CtParams */
/**
 * The part of the engine's `PluginApi` (src/engine/plugin/api.ts, API version 1) this plugin uses.
 * @typedef {object} PluginApi
 * @property {number} apiVersion
 * @property {any} z the engine's zod
 * @property {(shape: readonly number[], data?: Float32Array) => Tensor} tensor
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
 * @property {(shape: readonly number[]) => CtParams} defaults
 * @property {(shape: readonly number[]) => string | undefined} [checkShape]
 * @property {(p: CtParams, ctx: { shape: readonly number[], seed: number, rng: { uniform(): number } }) => object} create
 * @property {{ kind: string, title?: string }} node
 */

/** Operator id (the task id of `lagrange simulate --task ct`). */
export const CT_ID = 'ct';

/** Views at the reference side 256 px; other sizes scale the count with the side (see `ctDefaults`). */
const REFERENCE_ANGLES = 60;
const REFERENCE_SIDE = 256;

/**
 * Defaults for a C×H×W image: D = ⌈√2·max(H, W)⌉ detector bins (the diagonal is seen at every angle),
 * span 180°, and 60 views at 256 px scaled with the side (round(60·max(H, W)/256), at least 4: 8 at
 * 32 px), which keeps the views' share of the ≈ (π/2)·side that full sampling needs — the problem
 * stays sparse-view at every size. 60 views at 32 px would be fully sampled (2,760 data for 1,024 pixels).
 * @param {readonly number[]} shape
 * @returns {CtParams}
 */
export function ctDefaults(shape) {
  const side = Math.max(shape[1] ?? 1, shape[2] ?? 1);
  return { angles: Math.max(4, Math.round((REFERENCE_ANGLES * side) / REFERENCE_SIDE)), span: 180, detectors: Math.ceil(Math.SQRT2 * side) };
}

/**
 * The Radon transform's weights, walked once: sino[a, k] = Σ w · img[p] (forward) or
 * img[p] += w · sino[a, k] (transpose). One routine for both, so the transpose is exact.
 * @param {number} h
 * @param {number} w
 * @param {Float64Array} cos
 * @param {Float64Array} sin
 * @param {number} nd detector bins
 * @param {number} scale 1/L: line integrals in units of the image side
 * @param {Float64Array} img H·W values (read forward, accumulated into in transpose)
 * @param {Float64Array} sino A·D values (written forward, read in transpose)
 * @param {boolean} transpose
 */
function radon(h, w, cos, sin, nd, scale, img, sino, transpose) {
  const cx = (w - 1) / 2,
    cy = (h - 1) / 2,
    cd = (nd - 1) / 2;
  for (let a = 0; a < cos.length; a++) {
    const c = /** @type {number} */ (cos[a]),
      s = /** @type {number} */ (sin[a]);
    const byRows = Math.abs(c) >= Math.abs(s);
    // Joseph: the path length between two consecutive samples is 1/|cos| (rows) or 1/|sin| (columns).
    const step = scale / (byRows ? Math.abs(c) : Math.abs(s));
    for (let k = 0; k < nd; k++) {
      const sk = k - cd;
      const r = a * nd + k;
      const v = transpose ? /** @type {number} */ (sino[r]) * step : 0;
      let acc = 0;
      const n = byRows ? h : w;
      for (let q = 0; q < n; q++) {
        // pos: the ray's fractional column (stepping over rows) or row (stepping over columns).
        let pos, base, stride, limit;
        if (byRows) {
          const t = (cy - q - sk * s) / c;
          pos = sk * c - t * s + cx;
          base = q * w;
          stride = 1;
          limit = w;
        } else {
          const t = (sk * c - (q - cx)) / s;
          pos = cy - (sk * s + t * c);
          base = q;
          stride = w;
          limit = h;
        }
        const p0 = Math.floor(pos);
        if (p0 < -1 || p0 >= limit) continue;
        const f = pos - p0;
        if (transpose) {
          if (p0 >= 0) img[base + p0 * stride] = /** @type {number} */ (img[base + p0 * stride]) + (1 - f) * v;
          if (p0 + 1 < limit) img[base + (p0 + 1) * stride] = /** @type {number} */ (img[base + (p0 + 1) * stride]) + f * v;
        } else {
          if (p0 >= 0) acc += (1 - f) * /** @type {number} */ (img[base + p0 * stride]);
          if (p0 + 1 < limit) acc += f * /** @type {number} */ (img[base + (p0 + 1) * stride]);
        }
      }
      if (!transpose) sino[r] = acc * step;
    }
  }
}

/**
 * Checks that `t` is N×`sample` and returns N; the error names the operator, the port and both shapes.
 * @param {Tensor} t
 * @param {readonly number[]} sample
 * @param {string} what
 */
function batchOf(t, sample, what) {
  const ok = t.shape.length === sample.length + 1 && sample.every((d, i) => t.shape[i + 1] === d) && (t.shape[0] ?? 0) >= 1;
  if (!ok) throw new Error(`operator ${CT_ID}: ${what} must have shape N×${sample.join('×')}, got ${t.shape.join('×') || 'scalar'}`);
  return /** @type {number} */ (t.shape[0]);
}

/**
 * Registers the `ct` operator and its node kind `ParallelBeamCT`.
 * @param {PluginApi} api
 */
export default function register(api) {
  const z = api.z;
  const params = z.object({
    angles: z.number().int().min(1).max(4096).describe('number of views, uniformly spaced over the span'),
    span: z.number().gt(0).max(360).describe('angular range of the views in degrees: θ_a = span·a/angles, a = 0 … angles−1'),
    detectors: z.number().int().min(1).max(16384).describe('detector bins, 1 px wide, centred on the rotation axis'),
  });

  api.registerOperator({
    id: CT_ID,
    title: 'Sparse-view CT',
    summary: 'A = R: parallel-beam Radon transform (Joseph, linear interpolation), 60 views over 180° at 256 px',
    doc:
      'y = R x: parallel-beam line integrals of the image over `angles` views θ_a = span·a/angles (default 180°; 60 views ' +
      'at 256 px, scaled with the side: 8 at 32 px) and D = ⌈√2·max(H, W)⌉ detector bins of 1 px, output 1×angles×D. ' +
      "Ray-driven (Joseph's method): one sample per row (|cos θ| ≥ |sin θ|) or column, linear interpolation between the two " +
      'nearest pixels, path length 1/|cos θ| or 1/|sin θ| per sample, in units of the image side. A acts linearly on x ∈ [−1, 1] ' +
      '(not on the attenuation (x+1)/2, which would make it affine): a measured sinogram p of μ = (x+1)/2 maps to y = 2p − R1. ' +
      'Adjoint: the exact transpose Rᵀ (unfiltered back-projection). Single-channel images only; the view is the sinogram ' +
      'rescaled to [−1, 1] per sample.',
    linear: true,
    seeded: false,
    capabilities: ['adjoint', 'vjp'],
    params,
    defaults: ctDefaults,
    checkShape: (shape) => (shape[0] === 1 ? undefined : `CT takes single-channel images (C = 1), got ${shape.join('×')}; convert to gray first (e.g. --prior fmnist-32)`),
    create(p, ctx) {
      const [, h, w] = /** @type {[number, number, number]} */ (ctx.shape);
      const inShape = [1, h, w],
        outShape = [1, p.angles, p.detectors];
      const cos = new Float64Array(p.angles),
        sin = new Float64Array(p.angles);
      for (let a = 0; a < p.angles; a++) {
        const th = (((p.span * a) / p.angles) * Math.PI) / 180;
        cos[a] = Math.cos(th);
        sin[a] = Math.sin(th);
      }
      const scale = 1 / Math.max(h, w);
      const hw = h * w,
        m = p.angles * p.detectors;
      const img = new Float64Array(hw),
        sino = new Float64Array(m);
      /**
       * @param {Tensor} x
       * @param {Tensor | undefined} out
       */
      const apply = (x, out) => {
        const n = batchOf(x, inShape, 'input x');
        const y = out ?? api.tensor([n, ...outShape]);
        batchOf(y, outShape, 'output');
        for (let i = 0; i < n; i++) {
          for (let q = 0; q < hw; q++) img[q] = /** @type {number} */ (x.data[i * hw + q]);
          radon(h, w, cos, sin, p.detectors, scale, img, sino, false);
          y.data.set(sino, i * m);
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
        for (let i = 0; i < n; i++) {
          for (let r = 0; r < m; r++) sino[r] = /** @type {number} */ (y.data[i * m + r]);
          img.fill(0);
          radon(h, w, cos, sin, p.detectors, scale, img, sino, true);
          x.data.set(img, i * hw);
        }
        return x;
      };
      return {
        id: CT_ID,
        inShape,
        outShape,
        linear: true,
        params: { ...p },
        artifacts: {},
        apply,
        adjoint,
        /**
         * (∂A/∂x)ᵀ v = Rᵀ v for the linear R.
         * @param {Tensor} x
         * @param {Tensor} v
         * @param {Tensor} [out]
         */
        vjp(x, v, out) {
          if (batchOf(x, inShape, 'input x') !== batchOf(v, outShape, 'cotangent v')) throw new Error(`operator ${CT_ID}: x and v have different batch sizes`);
          return adjoint(v, out);
        },
        /** The sinogram rescaled to [−1, 1] per sample (min → −1, max → 1; 0 where constant). @param {Tensor} y */
        view(y) {
          const n = batchOf(y, outShape, 'measurement y');
          const v = api.tensor([n, ...outShape]);
          for (let i = 0; i < n; i++) {
            const part = y.data.subarray(i * m, (i + 1) * m);
            let lo = Infinity,
              hi = -Infinity;
            for (const e of part) {
              lo = Math.min(lo, e);
              hi = Math.max(hi, e);
            }
            for (let r = 0; r < m; r++) v.data[i * m + r] = hi > lo ? (2 * ((part[r] ?? 0) - lo)) / (hi - lo) - 1 : 0;
          }
          return v;
        },
      };
    },
    node: { kind: 'ParallelBeamCT', title: 'Sparse-view CT' },
  });
}
