/**
 * DiffPIR's proximal x-step (`proxXStep`, kernels/updates.ts) as an ONNX model: w = z − u,
 * prox = argmin ½‖Ax − y‖² + (ρ_t/2)‖x − w‖², x = w + κ(prox − w). ρ_t is a 0-d input, so one
 * model serves every iteration. Three forms, by operator:
 * - mask operators (`inpaint-*`): prox = (m⊙y + ρw)/(m + ρ), element-wise, as their `proxL2`;
 * - separable operators A = R ⊗ C (`deblur-gauss`, `sr4`): the closed form of `separable.ts`
 *   through the eigendecompositions RᵀR = U Λ_R Uᵀ, CᵀC = V Λ_C Vᵀ, as six MatMuls with
 *   precomputed matrices (below);
 * - operators without `proxL2` (`hdr`, `phase-retrieval`, `deblur-nonlinear`): the linearized
 *   step prox = w − J_A(w)ᵀ(A(w) − y)/ρ, the kernel's fallback, with the lowered apply and VJP.
 * `deblur-motion`'s proxL2 is a preconditioned CG solve stopped at a tolerance: its iteration
 * count depends on the data, which a fixed graph cannot reproduce exactly, so it stays in JS; so
 * does the engine's conjugate-gradient proxL2 of linear operators without a closed form
 * (`proxMethod: 'cg'`, operators/cgProx.ts).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { gaussianKernel1d, reflectConvMatrix } from '../operators/gaussianBlur';
import type { SparseRows } from '../operators/separable';
import { applySeparable, denseOf } from '../operators/separable';
import { bicubicResizeMatrix } from '../operators/superResolution';
import type { ForwardModel } from '../operators/types';
import { createRng } from '../tensor/rng';
import { tensor } from '../tensor/tensor';
import type { Dim } from './builder';
import { f32, GraphBuilder } from './builder';
import { connectedWires, dataGradient, measurementOf, reasonOf, scheduleOf } from './data-term';
import { LoweringError, lowerOperator } from './operators';
import type { KindLowering } from './lowering';
import type { xUpdate } from '../../nodes/index';
import { scalarInputs } from './updates';

/** How a prox model computes the prox. */
export type ProxForm = 'mask' | 'separable' | 'linearized';

/** Options of {@link xProxModel}. */
export interface XProxModelOptions {
  /** Whether the graph has a `u` input (w = z − u); without it w = z. */
  withU: boolean;
  /** κ in x = w + κ(prox − w) (a node parameter, so baked into the model). */
  guidance: number;
}

/** The message the JS executor records when it runs the linearized step; the lowering records it too. */
export const LINEARIZED_WARNING = 'XUpdate: the operator has no proxL2; ran the linearized step w − J_Aᵀ(A(w) − y)/ρ_t';

/**
 * ρ_t = λσ_n²/σ_t² with σ_n = max(σ_y/2, 0.001), as `proxXStep`: the `rho` input of {@link xProxModel}.
 */
export function proxRho(sigmaY: number, sigmaT: number, lambda: number): number {
  const sigmaN = Math.max(sigmaY / 2, 0.001);
  return (lambda * sigmaN * sigmaN) / (sigmaT * sigmaT);
}

const batched = (shape: readonly number[]): Dim[] => ['N', ...shape];

/**
 * The prox x-step for `op`: inputs `z`, [`u`] (N×inShape), `y` (M×outShape, M = 1 broadcasts),
 * `rho` (0-d ρ_t); output `x`. Throws {@link LoweringError} for an operator whose proxL2 has no
 * exact graph form (and for operators `lowerOperator` refuses).
 */
export function xProxModel(op: ForwardModel, opts: XProxModelOptions): { model: Uint8Array; form: ProxForm } {
  if (op.proxMethod === 'cg') {
    throw new LoweringError(
      `operator ${op.id}: its proxL2 is the engine's conjugate-gradient solve (no closed form), stopped at a tolerance after a data-dependent number of iterations; it runs in JS`,
    );
  }
  const form: ProxForm = typeof op.proxL2 !== 'function' ? 'linearized' : op.id.startsWith('inpaint-') ? 'mask' : 'separable';
  const g = new GraphBuilder(`update.prox.${op.id}`);
  const z = g.input('z', batched(op.inShape));
  const u = opts.withU ? g.input('u', batched(op.inShape)) : undefined;
  const y = g.input('y', ['M', ...op.outShape]),
    rho = g.input('rho', []);
  const w = u ? g.node('Sub', [z, u]) : z;
  let prox: string;
  if (form === 'mask') {
    const mask = op.artifacts.mask;
    if (!mask) throw new LoweringError(`operator ${op.id}: no mask artifact`);
    const m = g.constant(f32(mask.shape, mask.data));
    prox = g.node('Div', [g.node('Add', [g.node('Mul', [m, y]), g.node('Mul', [rho, w])]), g.node('Add', [m, rho])]);
  } else if (form === 'separable') {
    prox = separableProx(g, op, w, y, rho);
  } else {
    const { grad } = dataGradient(g, lowerOperator(op), w, y, 'data');
    prox = g.node('Sub', [w, g.node('Div', [grad, rho])]);
  }
  // κ = 1 (DiffPIR's default) is the prox itself, as the kernel's w + 1·(prox − w) is exactly.
  const x = opts.guidance === 1 ? prox : g.node('Add', [w, g.node('Mul', [g.scalar(opts.guidance), g.node('Sub', [prox, w])])]);
  g.output(x, 'x', batched(op.inShape));
  return { model: g.toBytes(`DiffPIR prox x-step for ${op.id}, ${form} (kernels/updates.ts proxXStep)`), form };
}

/** R (hOut×H) and C (wOut×W) of a separable operator instance, checked against its apply. */
function separableFactors(op: ForwardModel): { r: SparseRows; c: SparseRows } {
  const [, h, w] = op.inShape as [number, number, number];
  const num = (k: string): number => {
    const v = op.params[k];
    if (typeof v !== 'number') throw new LoweringError(`operator ${op.id}: parameter '${k}' is missing`);
    return v;
  };
  let r: SparseRows, c: SparseRows;
  if (op.id === 'deblur-gauss') {
    const taps = gaussianKernel1d(num('kernelSize'), num('sigma'));
    r = reflectConvMatrix(h, taps);
    c = h === w ? r : reflectConvMatrix(w, taps);
  } else if (op.id === 'sr4') {
    const f = num('factor');
    r = bicubicResizeMatrix(h, h / f);
    c = h === w ? r : bicubicResizeMatrix(w, w / f);
  } else {
    throw new LoweringError(
      op.id === 'deblur-motion'
        ? `operator ${op.id}: its proxL2 is a preconditioned CG solve stopped at a tolerance, whose iteration count depends on the data; a fixed ONNX graph cannot reproduce it exactly`
        : `operator ${op.id}: its proxL2 has no ONNX form`,
    );
  }
  // The factors must be the operator's own: compare on a random input (same float64 arithmetic).
  const x = tensor([1, ...op.inShape]);
  createRng(0, 'onnx/prox-check').fillNormal(x.data);
  const want = op.apply(x),
    got = applySeparable(r, c, x);
  const err = want.data.reduce((m, v, i) => Math.max(m, Math.abs(v - got.data[i]!)), 0);
  if (err > 1e-6) throw new LoweringError(`operator ${op.id}: the rebuilt separable factors differ from the operator by ${err}`);
  return { r, c };
}

/** MᵀM = U diag(λ) Uᵀ (float64, λ clamped at 0) and G = (M U)ᵀ, for M rows×n. */
function gramFactors(m: SparseRows): { u: Float64Array; g: Float64Array; lambda: Float64Array } {
  const n = m.cols,
    rows = m.rows;
  const dense = denseOf(m);
  const gram = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < rows; k++) s += dense[k * n + i]! * dense[k * n + j]!;
      gram.set(i, j, s);
    }
  }
  const evd = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const vec = evd.eigenvectorMatrix;
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) u[i * n + k] = vec.get(i, k);
  const g = new Float64Array(n * rows);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += dense[i * n + j]! * u[j * n + k]!;
      g[k * rows + i] = s;
    }
  }
  return { u, g, lambda: Float64Array.from(evd.realEigenvalues, (l) => Math.max(0, l)) };
}

const transposed = (a: Float64Array, rows: number, cols: number): Float64Array => {
  const t = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
};

/**
 * (AᵀA + ρI)⁻¹(Aᵀy + ρw) per channel plane, written in the eigenbases of RᵀR and CᵀC as
 * U[(Gᵣ Y G꜀ᵀ + ρ·Uᵀ W V) ⊘ (λᵢμⱼ + ρ)]Vᵀ with Gᵣ = (RU)ᵀ, G꜀ = (CV)ᵀ. Aᵀy enters through
 * Gᵣ Y G꜀ᵀ = Uᵀ(RᵀYC)V, whose rows vanish (to float64 rounding) along the null directions of
 * A, rather than as γ(Aᵀy) rotated by a float32 U: at early iterations ρ ≈ 1e-8, and a rotated
 * Aᵀy would leak rounding times 1/ρ into those directions. All factors are computed in float64
 * and rounded once.
 */
function separableProx(g: GraphBuilder, op: ForwardModel, w: string, y: string, rho: string): string {
  const { r, c } = separableFactors(op);
  const fr = gramFactors(r),
    fc = r === c ? fr : gramFactors(c);
  const h = r.cols,
    wd = c.cols;
  const mat = (rows: number, cols: number, data: Float64Array): string => g.constant(f32([rows, cols], data));
  const mm = (a: string, b: string): string => g.node('MatMul', [a, b]);
  const lam = new Float64Array(h * wd);
  for (let i = 0; i < h; i++) for (let j = 0; j < wd; j++) lam[i * wd + j] = fr.lambda[i]! * fc.lambda[j]!;
  const aty = mm(mm(mat(h, r.rows, fr.g), y), mat(c.rows, wd, transposed(fc.g, wd, c.rows)));
  const wEig = mm(mm(mat(h, h, transposed(fr.u, h, h)), w), mat(wd, wd, fc.u));
  const core = g.node('Div', [g.node('Add', [aty, g.node('Mul', [rho, wEig])]), g.node('Add', [mat(h, wd, lam), rho])]);
  return mm(mm(mat(h, h, fr.u), core), mat(wd, wd, transposed(fc.u, wd, wd)));
}

/** XUpdate in prox mode; the step runs in JS where the operator's prox has no exact graph form. */
export const xProx: KindLowering<typeof xUpdate> = (step, plan) => {
  const op = plan.measurement.op;
  const p = step.params;
  let built: { model: Uint8Array; form: ProxForm };
  try {
    built = xProxModel(op, { withU: step.inputs.u !== undefined, guidance: p.guidance });
  } catch (e) {
    return `XUpdate (prox: ${reasonOf(e)})`;
  }
  return {
    model: built.model,
    wires: connectedWires(step, { z: 'z', u: 'u' }),
    outputs: { x: 'x' },
    nfe: 0,
    async feeds(ctx) {
      const m = measurementOf(ctx);
      if (built.form === 'linearized') ctx.warn(LINEARIZED_WARNING);
      return { y: m.y, ...scalarInputs({ rho: proxRho(m.sigmaY, scheduleOf(ctx).sigmaT[ctx.k]!, p.lambda) }) };
    },
  };
};
