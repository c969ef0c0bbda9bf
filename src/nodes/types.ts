/**
 * The node-kind contract: typed ports, a zod parameter schema with defaults, a paragraph of docs
 * with the formula, a category, and the capabilities the node needs from what is wired into it.
 * This folder imports nothing else of ours, so the renderer (palette, inspector) and the engine
 * (validator, compiler) read the same declarations.
 */
import type { z } from 'zod';

/**
 * Port types. `image` carries N×C×H×W tensors (clean images in [−1, 1], or noisy iterates in the
 * units of the schedule); `measurement` carries y with its operator, σ_y and (when simulated) the
 * ground truth; `operator` an unapplied measurement operator; `prior` a score model; `schedule`
 * the per-iteration timesteps and noise levels; `scalar` one number per iteration; `latent` an
 * autoencoder's N×C×H×W latents (kept apart from images: a latent never enters an image port).
 */
export type PortType = 'image' | 'latent' | 'measurement' | 'operator' | 'prior' | 'schedule' | 'scalar';

/** One input or output of a node. */
export interface PortSpec {
  readonly name: string;
  readonly type: PortType;
  /** Inputs only: may stay unconnected (the node documents what it does then). */
  readonly optional?: boolean;
  readonly doc: string;
  /**
   * An `image` port (or a `prior` input) of a shape-agnostic step that also carries latents: all
   * of a node's `anySpace` ports are in one space — pixels, or the latents of the graph's
   * autoencoder — decided by what is wired to them, so the same kernels run in either space.
   */
  readonly anySpace?: boolean;
  /** `prior` outputs: the space the prior models (default `image`; a latent prior's is `latent`). */
  readonly space?: 'image' | 'latent';
}

/** What a node needs of an operator or prior wired into one of its ports. */
export interface Requirement {
  /** Input port whose upstream operator (through a measurement) or prior must have the capability. */
  readonly port: string;
  readonly capability: 'adjoint' | 'vjp' | 'proxL2' | 'denoiseVjp';
  /** Only when the node's parameters select the feature (e.g. XUpdate mode 'prox'). */
  readonly when?: (params: Record<string, unknown>) => boolean;
  /** What the engine does instead when the capability is missing; absent = refuse the graph. */
  readonly fallback?: string;
}

/** Palette groups. */
export type NodeCategory = 'input' | 'operator' | 'prior' | 'schedule' | 'state' | 'update' | 'sampler' | 'output';

/**
 * How the compiler treats a node of the kind:
 * - `value`: evaluated once, before the task is known (images, operators, the measurement);
 * - `resource`: evaluated once after the measurement is known, so the task's and profile's
 *   overrides reach it (the prior, the schedule);
 * - `state`: a loop register; the edge into its {@link NodeKind.loopInput} carries the next
 *   iteration's value and closes the loop;
 * - `route`: forwards one of its inputs, chosen by {@link NodeKind.route} (no computation);
 * - `sink`: reads values for the run's outputs and produces none in the graph;
 * - `step` (the default): computes every iteration (it is downstream of a state).
 */
export type NodeRole = 'value' | 'resource' | 'state' | 'route' | 'sink' | 'step';

/** A node kind. */
export interface NodeKind<S extends z.ZodType<Record<string, unknown>> = z.ZodType<Record<string, unknown>>> {
  readonly kind: string;
  readonly title: string;
  readonly category: NodeCategory;
  /** One paragraph: what the node computes, with the formula. */
  readonly doc: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  /** Parameter schema; parsing `{}` gives the defaults. */
  readonly params: S;
  readonly requires?: readonly Requirement[];
  /** How the compiler treats the node (default `step`). */
  readonly role?: NodeRole;
  /** `state` kinds: the input whose edge carries the next iteration's value (the loop's back edge). */
  readonly loopInput?: string;
  /** `route` kinds: the input port the node forwards, given its parameters (defaults filled in). */
  readonly route?: (params: Record<string, unknown>) => string;
}

/** Identity helper that keeps the parameter schema's type. */
export function defineNode<S extends z.ZodType<Record<string, unknown>>>(kind: NodeKind<S>): NodeKind<S> {
  return kind;
}
