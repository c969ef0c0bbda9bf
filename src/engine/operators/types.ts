/**
 * The measurement-operator contract. An operator is a plain object with `apply` and the optional
 * capabilities it really has: `adjoint` only when it passes the adjoint test, `vjp` for reverse
 * mode (every differentiable operator; for linear ones vjp(x, v) = Aᵀv), `proxL2` where a closed
 * form or a dedicated solver exists. Solvers ask for capabilities; the graph validator refuses
 * wirings that lack them.
 * `apply`, `adjoint` and `vjp` take an optional `out` (N×outShape, resp. N×inShape, aliasing no
 * input) for the result, so that iterative solvers can reuse buffers; an operator may ignore it
 * and return a fresh tensor, so callers always use the returned tensor.
 */
import type { z } from 'zod';
import type { Rng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';

/** Capabilities a solver node may require of an operator. */
export type OperatorCapability = 'adjoint' | 'vjp' | 'proxL2';

/**
 * How an instance's proxL2 is computed: `'closed-form'` (an exact formula), `'iterative'` (the
 * operator's own solver stopped at a tolerance, e.g. motion blur's preconditioned CG) or `'cg'`
 * (the engine's generic conjugate gradients on (AᵀA + I/γ)x = Aᵀy + z/γ, `cgProx.ts`, which the
 * registry adds to linear operators with an adjoint and no proxL2 of their own).
 */
export type ProxMethod = 'closed-form' | 'iterative' | 'cg';

/** A measurement operator A for images of one per-sample shape (C×H×W); accepts any batch N. */
export interface ForwardModel {
  /** Registry id, e.g. `sr4`. */
  readonly id: string;
  /** Per-sample input shape C×H×W; inputs are N×C×H×W. */
  readonly inShape: Shape;
  /** Per-sample output shape; outputs are N×outShape. */
  readonly outShape: Shape;
  readonly linear: boolean;
  /** Resolved parameters (everything needed, with the seed, to rebuild this instance). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Tensors that define this instance (mask, kernel, …), stored with a measurement. */
  readonly artifacts: Readonly<Record<string, Tensor>>;
  /** y = A(x) (into `out` when the operator supports it). */
  apply(x: Tensor, out?: Tensor): Tensor;
  /** Aᵀy — present only on linear operators that pass the adjoint test. */
  adjoint?(y: Tensor, out?: Tensor): Tensor;
  /** (∂A/∂x)ᵀ v evaluated at x. */
  vjp?(x: Tensor, v: Tensor, out?: Tensor): Tensor;
  /** argmin_x ½‖Ax − y‖² + (1/2γ)‖x − z‖², i.e. (AᵀA + I/γ)⁻¹(Aᵀy + z/γ) for linear A. */
  proxL2?(z: Tensor, y: Tensor, gamma: number): Tensor;
  /** How `proxL2` is computed ({@link ProxMethod}); declared by operators with their own proxL2, set to 'cg' by the registry. */
  readonly proxMethod?: ProxMethod;
  /** A picture of y in its own space, N×C'×H'×W' in [−1, 1] (masked image, blurred image, log-amplitude, …). */
  view(y: Tensor): Tensor;
}

/** What an operator factory is given besides its parameters. */
export interface OperatorContext {
  /** Per-sample image shape C×H×W. */
  readonly shape: Shape;
  /** The seed the instance is drawn from (recorded in `params` by the registry). */
  readonly seed: number;
  /** Stream for everything random about the instance (mask, kernel, box position). */
  readonly rng: Rng;
}

/** A registry entry: how to build, document and test one operator. */
export interface OperatorSpec<S extends z.ZodType<Record<string, unknown>> = z.ZodType<Record<string, unknown>>> {
  readonly id: string;
  readonly title: string;
  /** One line for `lagrange tasks` and the node palette. */
  readonly summary: string;
  /** One paragraph: the formula, the papers' setting at 256 px and the rule for other sizes. */
  readonly doc: string;
  readonly linear: boolean;
  /** Whether the instance depends on the seed (mask, kernel, position). */
  readonly seeded: boolean;
  /** Capabilities instances always have. */
  readonly capabilities: readonly OperatorCapability[];
  /** Parameter schema (complete, resolved values). */
  readonly params: S;
  /** The papers' values at 256 px, rescaled for an image of per-sample shape C×H×W. */
  defaults(shape: Shape): z.output<S>;
  /** Image sizes the operator cannot handle, as a message (e.g. SR ×4 needs H, W divisible by 4). */
  checkShape?(shape: Shape): string | undefined;
  create(params: z.output<S>, ctx: OperatorContext): ForwardModel;
  /**
   * A test input x for the conformance suite, away from the points where A is not differentiable
   * (e.g. HDR's clipping threshold). Defaults to uniform values in [−0.9, 0.9].
   */
  testInput?(shape: Shape, rng: Rng): Tensor;
}
