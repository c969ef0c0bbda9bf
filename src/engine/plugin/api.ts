/**
 * The public plugin API, version 1: the one object a plugin's `register(api)` receives. A plugin
 * imports nothing from the engine; the engine's zod, tensor constructor, FFT helpers, registries
 * and conformance checks all come through {@link PluginApi}. What a plugin registers is recorded,
 * so that a plugin refused at load (it throws, clashes, or fails `checkOperator`) is rolled back
 * entirely.
 */
import { z } from 'zod';
import type { NodeKind } from '../../nodes/index';
import { addNodeKind, nodeKindOrigin } from '../../nodes/index';
import { registerOperator } from '../operators/registry';
import type { OperatorNodeDeclaration } from '../operators/registry';
import { checkOperator } from '../operators/check';
import type { CheckOptions, CheckResult } from '../operators/check';
import type { ForwardModel, OperatorSpec } from '../operators/types';
import { bind, registerExecutor } from '../runtime/executors';
import type { KindExecutor } from '../runtime/executors';
import * as fft from '../tensor/fft';
import { tensor } from '../tensor/tensor';
import type { Shape, Tensor } from '../tensor/tensor';
import { LAGRANGE_VERSION } from '../version';

/** The plugin API version this engine implements. */
export const PLUGIN_API_VERSION = 1;

/** Every plugin API version this engine can load (a manifest's `apiVersion` must be one). */
export const SUPPORTED_API_VERSIONS: readonly number[] = [PLUGIN_API_VERSION];

/** The conformance suite's types, as plugins see them (src/engine/operators/check.ts). */
export type { CheckName, CheckOptions, CheckOutcome, CheckResult } from '../operators/check';

/**
 * An operator as a plugin registers it: the engine's {@link OperatorSpec} plus the node kind that
 * places it in a graph. The node kind's parameter schema is `spec.params` with every key optional,
 * so parameters are declared once.
 */
export interface PluginOperatorSpec extends OperatorSpec {
  /** The operator's node kind, e.g. `{ kind: 'ParallelBeamCT', title: 'Sparse-view CT' }`. */
  readonly node: OperatorNodeDeclaration;
}

/** The API a plugin's `register(api)` is called with. */
export interface PluginApi {
  /** The plugin API version of this object (1). */
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  /** The engine's product version (package.json), e.g. `0.1.0`. */
  readonly engineVersion: string;
  /** The engine's zod: build parameter schemas with it (`api.z.object({...})`), never with a copy of your own. */
  readonly z: typeof z;
  /**
   * The engine's tensor constructor: `{ shape, data }`, data Float32Array in C order, N×C×H×W.
   * @param shape - dimensions; `data` (copied into a Float32Array when it is not one) must have their product's length, default zeros
   */
  tensor(shape: Shape, data?: Float32Array | ArrayLike<number>): Tensor;
  /** The engine's FFT helpers: `fftPlan(n)` (any length), `fft2` (in place, interleaved complex), `fftshift2`. */
  readonly fft: typeof fft;
  /**
   * Registers a measurement operator and its node kind. Refused (thrown) when the id or the node
   * kind exists, naming both owners, or when `spec.params` is not a zod object.
   */
  registerOperator(spec: PluginOperatorSpec): void;
  /**
   * Registers a per-iteration node kind (ports, zod parameter schema whose `{}` parse gives the
   * defaults, doc) and what it computes each iteration. Refused when the kind exists.
   * @param execute - outputs by port name for iteration `ctx.k`, from `ctx.input(port)` and `ctx.params`
   */
  registerNodeKind<K extends NodeKind>(declaration: K, execute: KindExecutor<K>): void;
  /**
   * Runs the engine's operator conformance suite on an instance — shapes, adjoint test, VJP
   * against central differences, proxL2 optimality, determinism, `out` buffers — the same checks
   * the loader runs on each registered operator. Never throws for a defect: each is a failed check.
   */
  checkOperator(op: ForwardModel, options?: CheckOptions): CheckResult;
}

/** What one plugin registered (its ids and kinds, in order). */
export interface PluginRegistrations {
  /** Operator ids with their node kinds. */
  readonly operators: { id: string; nodeKind: string }[];
  /** Per-iteration node kinds. */
  readonly nodeKinds: string[];
}

/** A plugin's API object with its record of registrations. */
export interface PluginSession {
  readonly api: PluginApi;
  readonly registered: PluginRegistrations;
  /** Removes everything the plugin registered (a refused plugin's rollback). */
  rollback(): void;
  /** Ends registration: calls after `register(api)` has returned are refused. */
  close(): void;
}

const PORT_TYPES = ['image', 'latent', 'measurement', 'operator', 'prior', 'schedule', 'scalar'] as const;
const CATEGORIES = ['input', 'operator', 'prior', 'schedule', 'state', 'update', 'sampler', 'output'] as const;
const TASK_ID = /^[a-z0-9][a-z0-9_-]*$/;
const KIND_NAME = /^[A-Za-z][\w-]*$/;
const port = z.object({ name: z.string().min(1), type: z.enum(PORT_TYPES), optional: z.boolean().optional(), doc: z.string() });
/** The shape a per-iteration node declaration must have; operator kinds come from `registerOperator`. */
const declarationSchema = z.object({
  kind: z.string().regex(KIND_NAME, 'a name of letters, digits, _ and -, starting with a letter'),
  title: z.string().min(1),
  category: z.enum(CATEGORIES).exclude(['operator']),
  doc: z.string(),
  inputs: z.array(port),
  outputs: z.array(port).min(1),
  params: z.custom<z.ZodObject>((v) => v instanceof z.ZodObject, "a zod object (api.z.object({...}), the engine's zod)"),
  // A plugin's kinds compute per iteration; registers, routers, sinks and resources are the engine's own.
  role: z.literal('step', { error: "a plugin node kind computes per iteration: role 'step' (or none)" }).optional(),
});

/** Thrown for a registration the API refuses; the loader reports its message as the reason. */
export class PluginApiError extends Error {
  override name = 'PluginApiError';
}

/** The API object for plugin `plugin`, recording what it registers. */
export function createPluginApi(plugin: string): PluginSession {
  const registered: PluginRegistrations = { operators: [], nodeKinds: [] };
  const undo: (() => void)[] = [];
  let open = true;
  const guard = (what: string): void => {
    if (!open) throw new PluginApiError(`plugin '${plugin}': ${what} after register(api) returned; register everything before it returns (or resolves)`);
  };
  const api: PluginApi = {
    apiVersion: PLUGIN_API_VERSION,
    engineVersion: LAGRANGE_VERSION,
    z,
    tensor,
    fft,
    registerOperator(spec) {
      guard('registerOperator');
      if (!spec || typeof spec !== 'object' || typeof spec.id !== 'string') throw new PluginApiError(`plugin '${plugin}': registerOperator needs a spec with a string id`);
      // Task ids appear in `task:<id>` override selectors and on the command line: keep them plain words.
      if (!TASK_ID.test(spec.id)) throw new PluginApiError(`plugin '${plugin}': operator id '${spec.id}' must be lower-case letters, digits, '_' or '-' (like sr4, inpaint-box)`);
      if (!spec.node || typeof spec.node.kind !== 'string') throw new PluginApiError(`plugin '${plugin}': operator ${spec.id}: spec.node.kind (its node kind's name) is missing`);
      if (!KIND_NAME.test(spec.node.kind))
        throw new PluginApiError(`plugin '${plugin}': operator ${spec.id}: node kind '${spec.node.kind}' must be letters, digits, _ and -, starting with a letter`);
      for (const key of ['create', 'defaults'] as const) {
        if (typeof spec[key] !== 'function') throw new PluginApiError(`plugin '${plugin}': operator ${spec.id}: spec.${key} must be a function`);
      }
      const { node, ...rest } = spec;
      undo.push(registerOperator(rest, plugin, node));
      registered.operators.push({ id: spec.id, nodeKind: node.kind });
    },
    registerNodeKind(declaration, execute) {
      guard('registerNodeKind');
      const parsed = declarationSchema.safeParse(declaration);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        const where = i.path.join('.') || 'declaration';
        throw new PluginApiError(`plugin '${plugin}': node kind ${String((declaration as { kind?: unknown })?.kind ?? '?')}: ${where}: ${i.message}`);
      }
      if (typeof execute !== 'function') throw new PluginApiError(`plugin '${plugin}': node kind ${declaration.kind}: execute must be a function`);
      const owner = nodeKindOrigin(declaration.kind);
      if (owner !== undefined) {
        const other = owner === 'builtin' ? 'the built-in node kind' : `the node kind of plugin '${owner}'`;
        throw new PluginApiError(`node kind '${declaration.kind}' of plugin '${plugin}' clashes with ${other} '${declaration.kind}'`);
      }
      const removeExecutor = registerExecutor(declaration.kind, bind(declaration, execute)[1], plugin);
      try {
        undo.push(addNodeKind(declaration, plugin));
      } catch (e) {
        removeExecutor();
        throw e;
      }
      undo.push(removeExecutor);
      registered.nodeKinds.push(declaration.kind);
    },
    checkOperator,
  };
  return {
    api: Object.freeze(api),
    registered,
    rollback() {
      open = false;
      for (const f of undo.splice(0).reverse()) f();
    },
    close() {
      open = false;
    },
  };
}
