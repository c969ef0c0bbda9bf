/**
 * A compiled solver: the resources resolved once (measurement, prior, schedule, constant images)
 * and the per-iteration body as an ordered list of node evaluations over named values
 * (`<node>.<port>`). State nodes are the loop registers; their `next` input is read after the body.
 */
import type { MeasurementValue } from '../kernels/updates';
import type { LpipsNetwork } from '../metrics/lpips';
import type { ScoreModel } from '../priors/types';
import type { Shape, Tensor } from '../tensor/tensor';
import type { ResolvedSchedule } from './schedule';

/** An output port of a node. */
export interface PortRef {
  node: string;
  port: string;
}

/** An unbound operator: task and parameter overrides, given a shape by the measurement it makes. */
export interface OperatorDescriptor {
  kind: 'operator';
  task: string;
  params: Record<string, unknown>;
}

/** Anything a port can carry. */
export type Value = Tensor | MeasurementValue | ScoreModel | ResolvedSchedule | OperatorDescriptor;

/** One node evaluated every iteration. */
export interface BodyStep {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  /** Input port → where its value comes from (absent for unconnected optional inputs). */
  inputs: Record<string, PortRef>;
  /** `latent` when the step's anySpace ports carry the autoencoder's latents (absent: images). */
  space?: 'latent';
}

/** A loop register. */
export interface StateSpec {
  id: string;
  name: string;
  init: 'zeros' | 'noise' | 'input' | 'adjoint';
  noiseScale: number;
  /** Per-sample shape C×H×W of the register: the measurement's image, or the autoencoder's latent. */
  shape: Shape;
  /** `latent` when the register holds a latent (absent: an image). */
  space?: 'latent';
  next: PortRef;
  initFrom?: PortRef;
}

/** A tapped image shown while the solver runs. */
export interface PreviewSpec {
  id: string;
  label: string;
  every: number;
  /** 'signal' maps [−1, 1]; 'auto' stretches the image's own range. */
  range: 'signal' | 'auto';
  source: PortRef;
}

/** The compiled solver. */
export interface Plan {
  name: string;
  /** sha256 of the validated graph document (with defaults filled in). */
  hash: string;
  seed: number;
  /** Batch size N: samples of one posterior run together. */
  samples: number;
  /** Per-sample image shape C×H×W (the measurement operator's input). */
  imageShape: Shape;
  measurement: MeasurementValue;
  prior: ScoreModel;
  schedule: ResolvedSchedule;
  /** Values computed once (images, measurement, prior, schedule), by `<node>.<port>`. */
  constants: Map<string, Value>;
  states: StateSpec[];
  body: BodyStep[];
  /**
   * Steps only sinks read (`taps.ts`: e.g. the Decoder before Output and Preview), in order:
   * evaluated after the body, in the iterations where a sink reads them.
   */
  taps: BodyStep[];
  output?: PortRef;
  previews: PreviewSpec[];
  /** Source of per-iteration metrics, and how often. */
  metrics?: { source: PortRef; every: number };
  /** The Metrics node's LPIPS network (its `lpips` folder): scores metrics events and the report. */
  lpips?: LpipsNetwork;
  /** Substitutions the validator accepted (e.g. a linearized step for a missing prox). */
  warnings: string[];
  /** Every node's parameters as this run uses them: defaults, task and profile overrides and per-run values applied. */
  effectiveParams: Record<string, Record<string, unknown>>;
  /** The profile whose overrides were applied. */
  profile?: string;
}

/** `<node>.<port>` key of a value. */
export const key = (r: PortRef): string => `${r.node}.${r.port}`;
