/**
 * VJPs of the ops that only move values: reshapes (the cotangent reshaped back), Transpose (the
 * inverse permutation), Expand (summed over the expanded axes), Concat and Split (each other's
 * adjoints; an output without a cotangent contributes zeros).
 */
import type { VjpContext, VjpRule } from '../context';

const reshapeBack: VjpRule = (c, [gy]) => [c.reshapeLike(gy!, c.node.inputs[0]!)];

const axisOf = (c: VjpContext, v: string, dflt: number): number => {
  const r = c.info(v).dims.length;
  return ((c.attrInt('axis', dflt) % r) + r) % r;
};

/** Sizes of `values` along `axis`: a constant when probed static, else read at run time. */
function sizesAlong(c: VjpContext, values: readonly string[], axis: number): string {
  const dims = values.map((v) => c.info(v).dims[axis]!);
  if (dims.every((d) => d >= 0)) return c.i64(dims);
  const at = c.i64([axis]);
  return c.g.node(
    'Concat',
    values.map((v) => c.g.node('Gather', [c.shape(v), at], { axis: { i: 0 } })),
    { axis: { i: 0 } },
  );
}

export const shapeRules: Record<string, VjpRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Expand: (c, [gy]) => [c.unbroadcast(gy!, c.node.inputs[0]!)],
  Transpose: (c, [gy]) => {
    const r = c.info(c.node.inputs[0]!).dims.length;
    const perm = c.attrInts('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const inverse = Array<number>(r);
    perm.forEach((p, i) => (inverse[p] = i));
    return [c.g.node('Transpose', [gy!], { perm: { ints: inverse } })];
  },
  Concat: (c, [gy]) => {
    const xs = c.node.inputs;
    const axis = axisOf(c, c.node.outputs[0]!, 0);
    const named = xs.map((_, i) => c.fresh(`split${i}`));
    const parts = c.g.nodeOutputs('Split', [gy!, sizesAlong(c, xs, axis)], { axis: { i: axis } }, named);
    return parts.map((p, i) => (c.needs(i) ? p : undefined));
  },
  Split: (c, gys) => {
    const x = c.node.inputs[0]!;
    const axis = axisOf(c, x, 0);
    const parts = c.node.outputs.map((y, i) => gys[i] ?? c.zerosLike(y));
    return [c.g.node('Concat', parts, { axis: { i: axis } })];
  },
};
