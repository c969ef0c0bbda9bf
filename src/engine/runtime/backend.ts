/**
 * Iteration backends: one interface for every place a Plan's iterations can compute. A backend is
 * prepared for a plan (sessions opened, lowerings built) and gives `runPlan` the iteration body —
 * node by node through an executor table, or fused, the whole body at once — with a structured
 * record of what ran where. The registry holds the JS runtime, ONNX node by node and ONNX fused;
 * `prepareBackend` turns a document's choice (`js` | `onnx`) into one of them, `onnx` meaning
 * fused where the plan fuses and node by node otherwise, with the reason kept.
 */
import type { Plan } from '../compile/plan';
import type { ExecutionProvider } from '../priors/onnxPrior';
import { onnxFusedBackend, onnxNodeBackend, prepareNodeByNode } from '../onnx/backend';
import type { NoisePrefetcher } from '../onnx/noise';
import type { Executor } from './executors';
import { executors as jsExecutors } from './executors';
import type { IterationBody } from './run';

/** The registered backends' ids, the JS runtime first. */
export const BACKEND_IDS = ['js', 'onnx-node', 'onnx-fused'] as const;

/** A registered backend. */
export type BackendId = (typeof BACKEND_IDS)[number];

/** What a document or a command asks for: a backend, or `onnx` (fused, else node by node). */
export type BackendChoice = BackendId | 'onnx';

/** Why a body step runs its JS executor under an ONNX backend (the lowering's own words). */
export interface NotLowered {
  kind: 'not-lowered';
  node: string;
  why: string;
}

/** Why a plan has no fused iteration: the step that has no fused lowering (absent: the body as a whole). */
export interface NotFusable {
  kind: 'not-fusable';
  node?: string;
  why: string;
  /** The error the lowering raised, when it raised one (`why` is its first line). */
  cause?: unknown;
}

/** Where one body step ran. */
export interface Placement {
  node: string;
  /** The step's node kind. */
  kind: string;
  ranOn: 'onnx' | 'js';
  /** The ONNX execution provider, or 'js' for the JS runtime. */
  provider: ExecutionProvider | 'js';
  /** Why the step ran in JS under an ONNX backend. */
  reason?: NotLowered;
}

/** The iteration body `runPlan` evaluates: the body node by node through executors, or all of it at once. */
export type IterationStep = { form: 'node'; executors: Readonly<Record<string, Executor>> } | { form: 'fused'; iterate: IterationBody };

/** A backend prepared for one plan; release it after the run (its sessions hold the network's weights). */
export interface PreparedBackend {
  id: BackendId;
  step: IterationStep;
  /** Every body step, in body order, with where it runs. */
  placement: readonly Placement[];
  /** Asked for `onnx` and not fused: why (the plan then runs node by node). */
  fallback?: NotFusable;
  /** What ran where in one line, added to the run report's warnings; empty for the JS runtime. */
  summary: string;
  /** Fused: the threads drawing the next iterations' noise, when there are any. */
  prefetcher?: NoisePrefetcher;
  release(): Promise<void>;
}

/** Options of {@link IterationBackend.prepare}. */
export interface BackendOptions {
  /** Fused form: draw the next iterations' noise in worker threads (see `FuseOptions.prefetchNoise`). */
  prefetchNoise?: boolean | number;
}

/** One way of running a plan's iterations. */
export interface IterationBackend {
  id: BackendId;
  /**
   * Prepares the backend for `plan`, opening every session now so that failures are known before
   * the run starts.
   * @throws BackendUnavailable when the plan cannot run on this backend (a fused form needs every step lowered)
   */
  prepare(plan: Plan, options?: BackendOptions): Promise<PreparedBackend>;
}

/** Raised by {@link IterationBackend.prepare} when the plan cannot run there; carries the structured reason. */
export class BackendUnavailable extends Error {
  override name = 'BackendUnavailable';
  constructor(readonly reason: NotFusable) {
    super(reason.node ? `not fused: node "${reason.node}": ${reason.why}` : `not fused: ${reason.why}`, reason.cause !== undefined ? { cause: reason.cause } : {});
  }
}

/** The engine's own runtime: every step its JS executor (plugin kinds included, as they register). */
export const jsBackend: IterationBackend = {
  id: 'js',
  async prepare(plan) {
    return {
      id: 'js',
      step: { form: 'node', executors: jsExecutors },
      placement: plan.body.map((s) => ({ node: s.id, kind: s.kind, ranOn: 'js', provider: 'js' })),
      summary: '',
      release: async () => {},
    };
  },
};

/**
 * The registered backend `id`. A function, not a table: `onnx/backend.ts` imports this module, so
 * its backends may not exist yet while this one initialises.
 */
export function backendOf(id: BackendId): IterationBackend {
  const backend = ({ js: jsBackend, 'onnx-node': onnxNodeBackend, 'onnx-fused': onnxFusedBackend } as Partial<Record<string, IterationBackend>>)[id];
  if (!backend) throw new Error(`unknown iteration backend '${id}'; registered: ${BACKEND_IDS.join(', ')} (or onnx: fused where it can, else node by node)`);
  return backend;
}

/**
 * Prepares the backend `choice` names for `plan`. `onnx` tries the fused form and, where the plan
 * does not fuse, prepares node by node with the reason in `fallback` (and the summary).
 */
export async function prepareBackend(plan: Plan, choice: BackendChoice, options: BackendOptions = {}): Promise<PreparedBackend> {
  if (choice !== 'onnx') return backendOf(choice).prepare(plan, options);
  try {
    return await onnxFusedBackend.prepare(plan, options);
  } catch (e) {
    if (!(e instanceof BackendUnavailable)) throw e;
    return prepareNodeByNode(plan, e.reason);
  }
}
