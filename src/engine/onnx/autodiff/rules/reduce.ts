/**
 * VJPs of the reductions (the cotangent expanded back over the reduced axes, divided by the count
 * for ReduceMean) and of Softmax/LogSoftmax along one axis (opset ≥ 13 semantics):
 * x̄ = y ⊙ (ȳ − Σ ȳ ⊙ y) and x̄ = ȳ − eʸ Σ ȳ.
 */
import type { VjpContext, VjpRule } from '../context';

/** The reduced axes (normalised), or 'all'; `axes` an attribute (opset ≤ 17 ReduceMean/…) or the input (ReduceSum ≥ 13). */
function reducedAxes(c: VjpContext, fromInput: boolean): number[] | 'all' | 'none' {
  const r = c.info(c.node.inputs[0]!).dims.length;
  let axes: number[] | undefined;
  if (fromInput) axes = c.node.inputs[1] ? c.ints(c.node.inputs[1], 'axes') : undefined;
  else axes = c.attrInts('axes');
  if (!axes || axes.length === 0) return fromInput && c.attrInt('noop_with_empty_axes', 0) ? 'none' : 'all';
  return axes.map((a) => (a + r) % r);
}

/** ȳ broadcast back to the input's shape. */
function expandBack(c: VjpContext, gy: string, axes: number[] | 'all'): string {
  const x = c.node.inputs[0]!;
  const r = c.info(x).dims.length;
  let g = gy;
  if (!c.attrInt('keepdims', 1)) g = axes === 'all' ? c.g.node('Reshape', [gy, c.i64(Array<number>(r).fill(1))]) : c.g.node('Unsqueeze', [gy, c.i64(axes)]);
  return c.g.node('Expand', [g, c.shape(x)]);
}

/** 1/(number of elements averaged), static when the probed sizes are. */
function inverseCount(c: VjpContext): string {
  const size = (v: string): number => c.info(v).dims.reduce((a, b) => (a < 0 || b < 0 ? -1 : a * b), 1);
  const n = size(c.node.inputs[0]!),
    m = size(c.node.outputs[0]!);
  if (n > 0 && m > 0) return c.scalar(m / n);
  const f = (v: string): string => c.g.node('Cast', [c.g.node('Size', [v])], { to: { i: 1 } });
  return c.g.node('Div', [f(c.node.outputs[0]!), f(c.node.inputs[0]!)]);
}

const reduce =
  (fromInput: boolean, local: (c: VjpContext, expanded: string) => string): VjpRule =>
  (c, [gy]) => {
    const axes = reducedAxes(c, fromInput);
    return [local(c, axes === 'none' ? gy! : expandBack(c, gy!, axes))];
  };

export const reduceRules: Record<string, VjpRule> = {
  ReduceSum: reduce(true, (_, e) => e),
  ReduceMean: reduce(false, (c, e) => c.g.node('Mul', [e, inverseCount(c)])),
  ReduceSumSquare: reduce(false, (c, e) => c.g.node('Mul', [e, c.g.node('Mul', [c.node.inputs[0]!, c.scalar(2)])])),
  Softmax: (c, [gy]) => {
    const y = c.node.outputs[0]!;
    const s = c.g.node('ReduceSum', [c.g.node('Mul', [gy!, y]), c.i64([c.attrInt('axis', -1)])], { keepdims: { i: 1 } });
    return [c.g.node('Mul', [y, c.g.node('Sub', [gy!, s])])];
  },
  LogSoftmax: (c, [gy]) => {
    const s = c.g.node('ReduceSum', [gy!, c.i64([c.attrInt('axis', -1)])], { keepdims: { i: 1 } });
    return [c.g.node('Sub', [gy!, c.g.node('Mul', [c.g.node('Exp', [c.node.outputs[0]!]), s])])];
  },
};
