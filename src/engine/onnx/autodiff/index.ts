/**
 * Reverse-mode differentiation of ONNX models: `vjpModel` derives (x, v) ↦ (∂f/∂x)ᵀ v as one ONNX
 * model (forward and backward together), `gradcheck` measures it against central differences.
 */
export { vjpModel } from './vjp';
export type { VjpModel, VjpOptions, VjpTraceStep } from './vjp';
export { gradcheck, runModel, toOrt } from './gradcheck';
export { countNonFinite, firstNonFinite } from './nonfinite';
export type { NonFiniteSite } from './nonfinite';
export type { Feed, GradcheckOptions, GradcheckResult } from './gradcheck';
export { VjpError } from './graph';
export { exactPriorVjpModel, withExactVjp } from './priorVjp';
export { VJP_RULES, ZERO_GRADIENT_OPS } from './registry';
