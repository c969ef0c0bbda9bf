/**
 * The VJP rules by ONNX op type, one file per op family under `rules/`. Adding an op is adding
 * its rule there and listing it here; `vjp.ts` refuses any other op on a differentiable path.
 * No ONNX autodiff library exists for JavaScript (onnxruntime-training has no Node build), hence
 * these rules.
 */
import type { VjpRule } from './context';
import { convRules } from './rules/conv';
import { elementwiseRules } from './rules/elementwise';
import { linearRules } from './rules/linear';
import { normRules } from './rules/norm';
import { poolRules } from './rules/pool';
import { reduceRules } from './rules/reduce';
import { prepareResize, resizeRules } from './rules/resize';
import { shapeRules } from './rules/shape';
import { indexRules } from './rules/index-ops';

/** Every VJP rule, keyed by op type. */
export const VJP_RULES: ReadonlyMap<string, VjpRule> = new Map(
  Object.entries({ ...elementwiseRules, ...linearRules, ...convRules, ...normRules, ...poolRules, ...reduceRules, ...shapeRules, ...indexRules, ...resizeRules }),
);

/**
 * Ops whose outputs carry no gradient even when a float input lies on a differentiable path
 * (piecewise constant, or shape-only): the walk stops at them instead of refusing.
 */
export const ZERO_GRADIENT_OPS: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Range',
  'ConstantOfShape',
  'EyeLike',
  'RandomNormalLike',
  'RandomUniformLike',
  'ArgMax',
  'ArgMin',
  'NonZero',
]);

/** Build-time preparations a rule needs that must run ONNX Runtime (asynchronous), by op type. */
export const VJP_PREPARE: ReadonlyMap<string, typeof prepareResize> = new Map([['Resize', prepareResize]]);
