/**
 * The operator registry: every measurement operator of the product, by id — the eight built-in
 * ones and those plugins register at run time (`registerOperator`). The conformance suite
 * (`conformance.test.ts`) runs on every built-in entry, and the plugin loader runs
 * `checkOperator` on every registered one, so adding an operator is adding an entry plus its own
 * reference-value test.
 */
import { addNodeKind } from '../../nodes/index';
import type { OperatorNodeKind } from '../../nodes/index';
import { z } from 'zod';
import { createRng } from '../tensor/rng';
import type { Shape } from '../tensor/tensor';
import { shapeStr } from '../tensor/tensor';
import { withCgProx } from './cgProx';
import { gaussianBlur } from './gaussianBlur';
import { hdr } from './hdr';
import { inpaintBox, inpaintRandom } from './inpainting';
import { motionBlur } from './motionBlur';
import { nonlinearBlur } from './nonlinearBlur';
import { onnxOperator } from './onnx/spec';
import { phaseRetrieval } from './phaseRetrieval';
import { superResolution } from './superResolution';
import type { ForwardModel, OperatorSpec } from './types';

/** Who registered an operator: `'builtin'` or a plugin's name. */
export type OperatorOrigin = 'builtin' | (string & {});

/** The node kind an operator is placed with in a graph, declared with its spec. */
export interface OperatorNodeDeclaration {
  /** Node kind name, e.g. `ParallelBeamCT` (PascalCase, unique over all kinds). */
  readonly kind: string;
  /** Palette title (default: the spec's title). */
  readonly title?: string;
}

// Registered operators: the built-ins in the order of the papers' task table, then the added ones.
const builtins: OperatorSpec[] = [superResolution, inpaintBox, inpaintRandom, gaussianBlur, motionBlur, phaseRetrieval, nonlinearBlur, hdr] as OperatorSpec[];
const entries: { spec: OperatorSpec; origin: OperatorOrigin }[] = builtins.map((spec) => ({ spec, origin: 'builtin' }));
let specs: readonly OperatorSpec[] = builtins;
// Built-in operators defined by a folder rather than by the image shape (`onnx-operator`): found by
// id, but not listed among the tasks, which are swept and simulated from an image alone.
const folderSpecs: readonly OperatorSpec[] = [onnxOperator as OperatorSpec];

/** All registered operator specs: the built-in ones, then those registered at run time. */
export function operatorSpecs(): readonly OperatorSpec[] {
  return specs;
}

/** Who registered operator `id` (`'builtin'` or a plugin's name), or undefined when none did. */
export function operatorOrigin(id: string): OperatorOrigin | undefined {
  return entries.find((e) => e.spec.id === id)?.origin ?? (folderSpecs.some((s) => s.id === id) ? 'builtin' : undefined);
}

/** Raised for unknown ids, bad parameters and unsupported image sizes. */
export class OperatorError extends Error {
  override name = 'OperatorError';
}

/**
 * The node kind of an operator registered with `node`: one output port `operator`, the spec's
 * doc, and the spec's parameter schema with every key optional (`.partial()`): a node sets only
 * what it overrides, the rest comes from `spec.defaults(shape)` once the image size is known.
 */
export function operatorNodeKind(spec: OperatorSpec, node: OperatorNodeDeclaration): OperatorNodeKind {
  if (!(spec.params instanceof z.ZodObject)) {
    throw new OperatorError(`operator ${spec.id}: params must be a zod object (api.z.object({...}), the engine's zod), so its node kind can take each parameter optionally`);
  }
  return {
    kind: node.kind,
    title: node.title ?? spec.title,
    category: 'operator',
    doc: spec.doc,
    inputs: [],
    outputs: [{ name: 'operator', type: 'operator', doc: `A = ${spec.id}` }],
    params: spec.params.partial(),
    role: 'value',
    task: spec.id,
  };
}

const ownerText = (origin: OperatorOrigin): string => (origin === 'builtin' ? 'the built-in operator' : `the operator of plugin '${origin}'`);

/**
 * Adds an operator (and, with `node`, its node kind) to the registry. An id that is registered, or
 * a node kind that exists, is refused naming both owners; nothing is added then.
 * @param origin - `'builtin'` or the registering plugin's name
 * @returns the function that removes both again (a refused plugin's rollback)
 * @throws OperatorError on a clash or a node kind that cannot be derived
 */
export function registerOperator(spec: OperatorSpec, origin: OperatorOrigin, node?: OperatorNodeDeclaration): () => void {
  const owner = operatorOrigin(spec.id);
  const who = origin === 'builtin' ? `built-in operator '${spec.id}'` : `operator '${spec.id}' of plugin '${origin}'`;
  if (owner !== undefined) throw new OperatorError(`${who} clashes with ${ownerText(owner)} '${spec.id}'`);
  let removeKind = (): void => {};
  if (node) {
    try {
      removeKind = addNodeKind(operatorNodeKind(spec, node), origin);
    } catch (e) {
      throw e instanceof OperatorError ? e : new OperatorError((e as Error).message, { cause: e });
    }
  }
  const entry = { spec, origin };
  entries.push(entry);
  specs = entries.map((e) => e.spec);
  return () => {
    const i = entries.indexOf(entry);
    if (i >= 0) entries.splice(i, 1);
    specs = entries.map((e) => e.spec);
    removeKind();
  };
}

/** The spec of operator `id`, or an error listing the known ids. */
export function operatorSpec(id: string): OperatorSpec {
  const spec = specs.find((s) => s.id === id) ?? folderSpecs.find((s) => s.id === id);
  if (!spec) throw new OperatorError(`unknown task '${id}'; known tasks: ${specs.map((s) => s.id).join(', ')}`);
  return spec;
}

/** Options for {@link createOperator}. */
export interface CreateOperatorOptions {
  /** Per-sample image shape C×H×W. */
  shape: Shape;
  /** Seed of the instance's mask/kernel/position (default 0). */
  seed?: number;
  /** Overrides of the size-rescaled defaults. */
  params?: Record<string, unknown>;
}

/**
 * Builds operator `id` for images of `shape`: defaults rescaled to the image size, overridden by
 * `params`, validated, and drawn from the stream `operator/<id>` of `seed`. A linear instance
 * with an adjoint and no proxL2 gets the conjugate-gradient one (`cgProx.ts`, `proxMethod: 'cg'`).
 */
export function createOperator(id: string, opts: CreateOperatorOptions): ForwardModel {
  return instantiateOperator(operatorSpec(id), opts);
}

/** {@link createOperator} for a spec that need not be registered (e.g. a plugin's, checked before it is). */
export function instantiateOperator(spec: OperatorSpec, opts: CreateOperatorOptions): ForwardModel {
  const id = spec.id;
  const shape = opts.shape;
  if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new OperatorError(`operator ${id}: image shape must be C×H×W, got ${shapeStr(shape)}`);
  }
  const bad = spec.checkShape?.(shape);
  if (bad) throw new OperatorError(`operator ${id}: ${bad} (image ${shapeStr(shape)})`);
  const seed = opts.seed ?? 0;
  const merged = { ...spec.defaults(shape), ...(opts.params ?? {}) };
  const parsed = spec.params.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.') || '(params)';
    throw new OperatorError(`operator ${id}: parameter ${path}: ${issue.message}`);
  }
  return withCgProx(spec.create(parsed.data, { shape, seed, rng: createRng(seed, `operator/${id}`) }));
}
