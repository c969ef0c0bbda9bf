/**
 * The elementwise, reduction and softmax VJP rules against central differences, over random
 * shapes, broadcasting and attributes (tests/autodiff.cases.ts). Inputs of ops with kinks (Relu,
 * Abs, Clip, Max/Min) or poles (Log, Div, Sqrt, Pow) are drawn away from them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttrValue } from '../src/engine/onnx/builder';
import { GraphBuilder, i64 } from '../src/engine/onnx/builder';
import { VJP_RULES } from '../src/engine/onnx/autodiff';
import { away, broadcastPair, dims, opModel, property, reportWorst, seed } from './autodiff.cases';

reportWorst();

describe('elementwise rules', () => {
  for (const op of ['Add', 'Sub', 'Mul'])
    property(
      op,
      broadcastPair.map(({ out, b }) => ({
        model: opModel(
          op,
          [
            { name: 'a', dims: out },
            { name: 'b', dims: b },
          ],
          {},
          out,
        ),
        wrt: ['a', 'b'],
      })),
    );
  property(
    'Div',
    fc.tuple(broadcastPair, seed).map(([{ out, b }, s]) => ({
      model: opModel(
        'Div',
        [
          { name: 'a', dims: out },
          { name: 'b', dims: b },
        ],
        {},
        out,
      ),
      wrt: ['a', 'b'],
      feeds: { b: away(b, 0.5, s) },
    })),
  );
  property(
    'Pow',
    fc.tuple(broadcastPair, seed).map(([{ out, b }, s]) => ({
      model: opModel(
        'Pow',
        [
          { name: 'a', dims: out },
          { name: 'b', dims: b },
        ],
        {},
        out,
      ),
      wrt: ['a', 'b'],
      feeds: { a: away(out, 0.5, s, true) },
    })),
  );
  for (const op of ['Max', 'Min'])
    property(
      op,
      fc.tuple(broadcastPair, seed).map(([{ out, b }, s]) => ({
        model: opModel(
          op,
          [
            { name: 'a', dims: out },
            { name: 'b', dims: b },
          ],
          {},
          out,
        ),
        wrt: ['a', 'b'],
        feeds: { a: away(out, 0.2, s, true), b: { ...away(b, 0.2, s + 1, true), data: Float32Array.from(away(b, 0.2, s + 1, true).data, (x) => -x) } },
        step: 1e-3,
      })),
    );
  const unary: [string, number, boolean, Record<string, AttrValue>?][] = [
    ['Neg', 0, false],
    ['Identity', 0, false],
    ['Sqrt', 0.5, true],
    ['Exp', 0, false],
    ['Log', 0.5, true],
    ['Reciprocal', 0.5, false],
    ['Abs', 0.1, false],
    ['Sin', 0, false],
    ['Cos', 0, false],
    ['Sigmoid', 0, false],
    ['Tanh', 0, false],
    ['Relu', 0.1, false],
    ['LeakyRelu', 0.1, false, { alpha: { f: 0.2 } }],
    ['Softplus', 0, false],
    ['Erf', 0, false],
    ['Cast', 0, false, { to: { i: 1 } }],
  ];
  for (const [op, lo, positive, attrs] of unary)
    property(
      op,
      fc
        .tuple(dims([0, 4]), seed)
        .map(([d, s]) => ({ model: opModel(op, [{ name: 'x', dims: d }], attrs ?? {}, d), wrt: ['x'], feeds: lo > 0 ? { x: away(d, lo, s, positive) } : undefined })),
    );
  // Bounds at ±0.5 and inputs at |x| ∈ [0.1, 0.3) ∪ [0.7, 1.1): some clipped, none near a bound.
  property(
    'Clip',
    fc.tuple(dims([1, 3]), seed).map(([d, s]) => {
      const x = away(d, 0.1, s);
      const data = Float32Array.from(x.data, (v, i) => (i % 2 ? v * 0.2 + Math.sign(v) * 0.08 : v * 0.4 + Math.sign(v) * 0.66));
      return { model: opModel('Clip', [{ name: 'x', dims: d }], {}, d, (g) => [g.scalar(-0.5), g.scalar(0.5)]), wrt: ['x'], feeds: { x: { ...x, data } }, step: 1e-3 };
    }),
  );
  property(
    'Where',
    fc.tuple(broadcastPair, seed).map(([{ out, b }, s]) => {
      const g = new GraphBuilder('test.Where');
      const a = g.input('a', out),
        bb = g.input('b', b);
      const cond = g.node('Greater', [g.constant(away(out, 0.1, s) as never), g.scalar(0)]);
      g.output(g.node('Where', [cond, a, bb]), 'y', out);
      return { model: g.toBytes(), wrt: ['a', 'b'] };
    }),
  );
});

describe('reductions and softmax', () => {
  const axesOf = (d: number[]): fc.Arbitrary<number[]> =>
    fc.subarray(
      d.map((_, i) => i),
      { minLength: 1 },
    );
  for (const op of ['ReduceSum', 'ReduceMean', 'ReduceSumSquare'])
    property(
      op,
      dims([1, 4]).chain((d) =>
        fc.tuple(axesOf(d), fc.boolean()).map(([axes, keep]) => {
          const out = d.map((n, i) => (axes.includes(i) ? 1 : n)).filter((_, i) => keep || !axes.includes(i));
          const asInput = op === 'ReduceSum';
          const model = opModel(op, [{ name: 'x', dims: d }], { keepdims: { i: keep ? 1 : 0 }, ...(asInput ? {} : { axes: { ints: axes } }) }, out, (g) =>
            asInput ? [g.constant(i64([axes.length], axes))] : [],
          );
          return { model, wrt: ['x'] };
        }),
      ),
    );
  for (const op of ['Softmax', 'LogSoftmax'])
    property(
      op,
      dims([1, 4]).chain((d) =>
        fc.integer({ min: -d.length, max: d.length - 1 }).map((axis) => ({ model: opModel(op, [{ name: 'x', dims: d }], { axis: { i: axis } }, d), wrt: ['x'] })),
      ),
    );
});

describe('registry', () => {
  it('has a rule for every op the task lists', () => {
    const listed =
      'Conv ConvTranspose Gemm MatMul Add Sub Mul Div Neg Pow Sqrt Exp Log Abs Sigmoid Tanh Relu Erf Softmax ReduceMean ReduceSum InstanceNormalization LayerNormalization Reshape Transpose Flatten Squeeze Unsqueeze Concat Split Slice Gather Pad Resize Expand Where Clip Identity Cast';
    expect(listed.split(' ').filter((op) => !VJP_RULES.has(op))).toEqual([]);
  });
});
