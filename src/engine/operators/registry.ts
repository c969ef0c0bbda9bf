/**
 * The operator registry: every measurement operator of the product, by id. The conformance suite
 * (`conformance.test.ts`) runs on every entry, so adding an operator is adding an entry here plus
 * its own reference-value test.
 */
import { createRng } from '../tensor/rng';
import type { Shape } from '../tensor/tensor';
import { shapeStr } from '../tensor/tensor';
import { gaussianBlur } from './gaussianBlur';
import { hdr } from './hdr';
import { inpaintBox, inpaintRandom } from './inpainting';
import { motionBlur } from './motionBlur';
import { nonlinearBlur } from './nonlinearBlur';
import { phaseRetrieval } from './phaseRetrieval';
import { superResolution } from './superResolution';
import type { ForwardModel, OperatorSpec } from './types';

// Registered operators, in the order of the papers' task table.
const specs: OperatorSpec[] = [superResolution, inpaintBox, inpaintRandom, gaussianBlur, motionBlur, phaseRetrieval, nonlinearBlur, hdr] as OperatorSpec[];

/** All registered operator specs. */
export function operatorSpecs(): readonly OperatorSpec[] {
  return specs;
}

/** Raised for unknown ids, bad parameters and unsupported image sizes. */
export class OperatorError extends Error {
  override name = 'OperatorError';
}

/** The spec of operator `id`, or an error listing the known ids. */
export function operatorSpec(id: string): OperatorSpec {
  const spec = specs.find((s) => s.id === id);
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
 * `params`, validated, and drawn from the stream `operator/<id>` of `seed`.
 */
export function createOperator(id: string, opts: CreateOperatorOptions): ForwardModel {
  const spec = operatorSpec(id);
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
  return spec.create(parsed.data, { shape, seed, rng: createRng(seed, `operator/${id}`) });
}
