/**
 * The operator conformance suite as library code: `checkOperator(op)` runs every check that
 * applies to a {@link ForwardModel} and returns a structured result, so the test suite, the plugin
 * loader and `lagrange operators check` judge an operator by the same numbers.
 *
 * Checks (each one only where the operator has the capability):
 * - `shapes`: A on N×inShape gives N×outShape, finite; sample 0 alone gives the batch's first
 *   slice (batch independence); the adjoint and VJP give N×inShape; `view` keeps the batch; a
 *   wrongly shaped input is refused rather than read.
 * - `adjoint`: e = |⟨Ax, y⟩ − ⟨x, Aᵀy⟩| / max(‖Ax‖‖y‖, ‖x‖‖Aᵀy‖) over random x, y (worst of 3),
 *   in float64 sums; only a linear operator may have one.
 * - `vjp`: symmetric central differences along random directions dₖ,
 *   fₖ = (⟨A(x + εdₖ), v⟩ − ⟨A(x − εdₖ), v⟩)/2ε against gₖ = ⟨vjp(x, v), dₖ⟩, pooled
 *   e = √(Σ(fₖ − gₖ)² / max(Σgₖ², Σfₖ²)), ε = 2e-4·max(1, rms x) (float32 rounding of A(x ± εd)
 *   against the O(ε²) truncation); for a linear A also vjp(x, v) = Aᵀv.
 * - `proxL2`: the returned x must satisfy the optimality condition of
 *   argmin ½‖Ax − y‖² + (1/2γ)‖x − z‖², r = Jᵀ(A(x) − y) + (x − z)/γ = 0 (for linear A the normal
 *   equations (AᵀA + I/γ)x = Aᵀy + z/γ), relative to the size of its terms,
 *   e = ‖r‖ / (‖JᵀA(x)‖ + ‖Jᵀy‖ + (‖x‖ + ‖z‖)/γ), at γ = 0.05, 1, 20.
 * - `determinism`: the same inputs give the same bytes, and no call changes its inputs.
 * - `out`: apply/adjoint/vjp into a caller's NaN-filled buffer return what they return afresh.
 * Every check also fails on a NaN/Inf in what it computed, and on a call that throws.
 */
import { createRng } from '../tensor/rng';
import type { Rng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { sameShape, shapeStr, sizeOf, tensor } from '../tensor/tensor';
import type { Check, Probe } from './checks';
import { adjointCheck, copy, Defect, determinismCheck, GAMMAS, outCheck, proxCheck, sameBytes, shapesCheck, vjpCheck } from './checks';
import { instantiateOperator, OperatorError } from './registry';
import type { ForwardModel, OperatorSpec } from './types';

export { sci } from './checks';

/** The properties {@link checkOperator} verifies. */
export type CheckName = 'shapes' | 'adjoint' | 'vjp' | 'proxL2' | 'determinism' | 'out';

/** The outcome of one check: the measured value and its tolerance where the check is numeric. */
export interface CheckOutcome {
  readonly name: CheckName;
  readonly ok: boolean;
  /** The measured error (relative, see the module doc), when the check is numeric. */
  readonly value?: number;
  readonly tolerance?: number;
  /** What was measured and, on failure, what it means ("… — the adjoint is not the transpose of apply"). */
  readonly message: string;
}

/** The result of {@link checkOperator}: ok when every applicable check passed. */
export interface CheckResult {
  readonly ok: boolean;
  readonly checks: readonly CheckOutcome[];
}

/** Tolerances of the numeric checks (see the module doc for each error's formula). */
export interface CheckTolerances {
  /** Relative adjoint error (default 1e-5, float32 data with float64 sums). */
  adjoint: number;
  /** Pooled relative error of the VJP against central differences (default 1e-3). */
  vjp: number;
  /** Relative residual of the prox's optimality condition (default 1e-5). */
  proxL2: number;
  /** Max |A(x)₀ − A(x₀)| / max |A(x)| between a batch's first slice and sample 0 alone (default 1e-6). */
  batch: number;
}

/** Default tolerances for float32 operators. */
export const DEFAULT_TOLERANCES: Readonly<CheckTolerances> = { adjoint: 1e-5, vjp: 1e-3, proxL2: 1e-5, batch: 1e-6 };

/** Options of {@link checkOperator}. */
export interface CheckOptions {
  /** Seed of the random probes (default 0). */
  seed?: number;
  /** Batch size N of the probes (default 2). */
  batch?: number;
  /** The test input x, N×inShape (its N overrides `batch`); default: `testInput` per sample. */
  input?: Tensor;
  /** One sample 1×inShape, away from points where A is not differentiable (an `OperatorSpec.testInput`); default uniform in [−0.9, 0.9]. */
  testInput?: (shape: Shape, rng: Rng) => Tensor;
  /** Overrides of {@link DEFAULT_TOLERANCES}. */
  tolerances?: Partial<CheckTolerances>;
  /** Prox steps γ to check at (default 0.05, 1, 20). */
  gammas?: readonly number[];
}

/** The test input: `input`, or N samples of `testInput` (uniform in [−0.9, 0.9] by default). */
function probeInput(op: ForwardModel, opts: CheckOptions, rng: Rng): Tensor {
  if (opts.input) return opts.input;
  const n = opts.batch ?? 2;
  const per = sizeOf(op.inShape);
  const data = new Float32Array(n * per);
  for (let s = 0; s < n; s++) {
    const one = opts.testInput
      ? opts.testInput(op.inShape, rng)
      : tensor(
          [1, ...op.inShape],
          Float32Array.from({ length: per }, () => 1.8 * rng.uniform() - 0.9),
        );
    if (one.data.length !== per) throw new Error(`operator ${op.id}: testInput gave ${shapeStr(one.shape)}, expected 1×${shapeStr(op.inShape)}`);
    data.set(one.data, s * per);
  }
  return tensor([n, ...op.inShape], data);
}

function run(name: CheckName, check: Check, p: Probe): CheckOutcome {
  try {
    return { name, ...check(p) };
  } catch (e) {
    const message = e instanceof Defect ? e.message : `threw ${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    return { name, ok: false, message };
  }
}

/**
 * Runs every applicable conformance check on `op` (see the module doc for the formulas): shapes
 * always, `adjoint`/`vjp`/`proxL2` where the operator has them, determinism and `out` always.
 * Never throws for a defect of the operator: each failure is a check with `ok: false` and a
 * message naming the property.
 * @param op - the operator instance to check
 * @param options - seed, batch, test input, tolerances
 */
export function checkOperator(op: ForwardModel, options: CheckOptions = {}): CheckResult {
  const rng = createRng(options.seed ?? 0, `check/${op.id}`);
  const tol = { ...DEFAULT_TOLERANCES, ...options.tolerances };
  let x: Tensor;
  try {
    x = probeInput(op, options, rng.fork('input'));
  } catch (e) {
    return { ok: false, checks: [{ name: 'shapes', ok: false, message: `no test input: ${(e as Error).message}` }] };
  }
  const n = x.shape[0] ?? 0;
  if (!sameShape(x.shape.slice(1), op.inShape)) {
    return { ok: false, checks: [{ name: 'shapes', ok: false, message: `test input has shape ${shapeStr(x.shape)}, expected N×${shapeStr(op.inShape)}` }] };
  }
  const probe = (stream: string): Probe => ({ op, x: copy(x), n, rng: rng.fork(stream), tol, gammas: options.gammas ?? GAMMAS });
  const checks: CheckOutcome[] = [run('shapes', shapesCheck, probe('shapes'))];
  if (op.adjoint) checks.push(run('adjoint', adjointCheck, probe('adjoint')));
  if (op.vjp) checks.push(run('vjp', vjpCheck, probe('vjp')));
  if (op.proxL2) checks.push(run('proxL2', proxCheck, probe('proxL2')));
  checks.push(run('determinism', determinismCheck, probe('determinism')), run('out', outCheck, probe('out')));
  return { ok: checks.every((c) => c.ok), checks };
}

/** Options of {@link checkOperatorSpec}: those of {@link checkOperator}, plus how to build the instance. */
export interface SpecCheckOptions extends CheckOptions {
  /** Instance seed (default 0; the probes use `seed` too). */
  seed?: number;
  /** Overrides of the spec's defaults for this shape. */
  params?: Record<string, unknown>;
}

/** The first difference between what `spec` declares and what its instance `op` is, or undefined. */
function declarationProblem(spec: OperatorSpec, op: ForwardModel, shape: Shape): string | undefined {
  if (op.id !== spec.id) return `the instance's id is '${op.id}', the spec's '${spec.id}'`;
  if (!sameShape(op.inShape, shape)) return `the instance's inShape is ${shapeStr(op.inShape)}, but it was built for ${shapeStr(shape)}`;
  if (op.linear !== spec.linear) return `the instance says linear: ${op.linear}, the spec linear: ${spec.linear}`;
  const missing = spec.capabilities.filter((c) => typeof op[c] !== 'function');
  if (missing.length) return `the spec declares ${missing.join(', ')}, which the instance lacks`;
  return undefined;
}

/** Whether two instances built from the same seed agree, and (for a seeded spec) another seed changes the instance. */
function seedProblem(spec: OperatorSpec, build: (seed: number) => ForwardModel, seed: number, x: Tensor): string | undefined {
  const a = build(seed),
    b = build(seed);
  if (JSON.stringify(a.params) !== JSON.stringify(b.params)) return 'two instances from the same seed have different params';
  const ya = a.apply(x);
  if (!sameBytes(ya, b.apply(x))) return 'two instances from the same seed give different results — draw everything random from ctx.rng';
  if (spec.seeded && sameBytes(ya, build(seed + 1).apply(x))) return `the spec says seeded, but seeds ${seed} and ${seed + 1} give the same operator`;
  return undefined;
}

/**
 * Builds `spec` for images of per-sample shape C×H×W as the registry does (defaults for the
 * shape, `params`, the seed's stream; the CG proxL2 where it applies) and runs
 * {@link checkOperator} on it with the spec's `testInput`. Besides that: the instance matches the
 * spec's id, linearity and capabilities (`shapes`), and two instances from one seed agree while a
 * seeded spec changes with the seed (`determinism`).
 * @throws OperatorError when the spec cannot be built for `shape` (unsupported size, bad params)
 */
export function checkOperatorSpec(spec: OperatorSpec, shape: Shape, options: SpecCheckOptions = {}): CheckResult {
  const seed = options.seed ?? 0;
  const build = (s: number): ForwardModel => instantiateOperator(spec, { shape, seed: s, ...(options.params ? { params: options.params } : {}) });
  let op: ForwardModel;
  try {
    op = build(seed);
  } catch (e) {
    if (e instanceof OperatorError) throw e;
    throw new OperatorError(`operator ${spec.id}: create failed for image ${shapeStr(shape)}: ${(e as Error).message}`, { cause: e });
  }
  const opts: CheckOptions = { ...(spec.testInput ? { testInput: (sh, rng) => spec.testInput!(sh, rng) } : {}), ...options };
  const result = checkOperator(op, opts);
  const checks = result.checks.map((c): CheckOutcome => {
    if (!c.ok) return c;
    let problem: string | undefined;
    try {
      if (c.name === 'shapes') problem = declarationProblem(spec, op, shape);
      if (c.name === 'determinism') problem = seedProblem(spec, build, seed, probeInput(op, { ...opts, batch: 1 }, createRng(seed, `check/${op.id}/seed`)));
    } catch (e) {
      problem = `threw ${(e as Error).message}`;
    }
    return problem ? { name: c.name, ok: false, message: problem } : c;
  });
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * One line for a CLI: the failing checks ("adjoint: relative error 3.1e-2 > 1e-5 — the adjoint
 * is not the transpose of apply"; several joined by "; "), or which checks passed.
 */
export function formatCheck(result: CheckResult): string {
  const failed = result.checks.filter((c) => !c.ok);
  if (failed.length === 0) return `ok: ${result.checks.map((c) => c.name).join(', ')} pass`;
  return failed.map((c) => `${c.name}: ${c.message}`).join('; ');
}
