/**
 * The VJP rules of the ops that move values, against central differences over random shapes and
 * attributes (tests/autodiff.cases.ts): reshapes, Transpose, Expand, Concat, Split (an unused
 * part contributes zeros), Slice (negative and out-of-range bounds), Gather (repeated and
 * negative indices), Pad (negative pads crop) and Resize (nearest and linear, several
 * coordinate modes, scales and sizes).
 */
import fc from 'fast-check';
import { describe } from 'vitest';
import type { AttrValue } from '../src/engine/onnx/builder';
import { GraphBuilder, i64 } from '../src/engine/onnx/builder';
import { dims, opModel, property, reportWorst, sym } from './autodiff.cases';

reportWorst();

const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const withInts =
  (...ints: number[][]): ((g: GraphBuilder) => string[]) =>
  (g) =>
    ints.map((v) => g.constant(i64([v.length], v)));
const size = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

describe('reshape rules', () => {
  property(
    'Reshape',
    dims([1, 4]).map((d) => ({ model: opModel('Reshape', [{ name: 'x', dims: d }], {}, [d.at(-1)!, size(d) / d.at(-1)!], withInts([d.at(-1)!, -1])), wrt: ['x'] })),
  );
  property(
    'Flatten',
    dims([1, 4]).chain((d) => int(0, d.length).map((axis) => ({ model: opModel('Flatten', [{ name: 'x', dims: d }], { axis: { i: axis } }, sym(2)), wrt: ['x'] }))),
  );
  property(
    'Unsqueeze',
    dims([0, 3]).chain((d) =>
      int(-d.length - 1, d.length).map((axis) => ({ model: opModel('Unsqueeze', [{ name: 'x', dims: d }], {}, sym(d.length + 1), withInts([axis])), wrt: ['x'] })),
    ),
  );
  property(
    'Squeeze',
    dims([1, 3]).chain((d) =>
      int(0, d.length).map((at) => {
        const x = [...d.slice(0, at), 1, ...d.slice(at)];
        return { model: opModel('Squeeze', [{ name: 'x', dims: x }], {}, d, withInts([at])), wrt: ['x'] };
      }),
    ),
  );
  property(
    'Transpose',
    dims([1, 4]).chain((d) =>
      fc
        .shuffledSubarray(
          d.map((_, i) => i),
          { minLength: d.length, maxLength: d.length },
        )
        .map((perm) => ({
          model: opModel(
            'Transpose',
            [{ name: 'x', dims: d }],
            { perm: { ints: perm } },
            perm.map((p) => d[p]!),
          ),
          wrt: ['x'],
        })),
    ),
  );
  property(
    'Expand',
    fc.tuple(dims([1, 3]), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), int(1, 3)).map(([out, ones, lead]) => {
      const x = out.map((n, i) => (ones[i] ? 1 : n));
      const target = [lead, ...out];
      return { model: opModel('Expand', [{ name: 'x', dims: x }], {}, target, withInts(target)), wrt: ['x'] };
    }),
  );
});

describe('concat and split rules', () => {
  property(
    'Concat',
    dims([1, 3]).chain((d) =>
      fc.tuple(int(0, d.length - 1), fc.array(int(1, 3), { minLength: 2, maxLength: 3 })).map(([axis, widths]) => {
        const ins = widths.map((w, i) => ({ name: `x${i}`, dims: d.map((n, k) => (k === axis ? w : n)) }));
        return { model: opModel('Concat', ins, { axis: { i: axis } }, sym(d.length)), wrt: ins.map((i) => i.name) };
      }),
    ),
  );
  property(
    'Split',
    dims([1, 3]).chain((d) =>
      fc.tuple(int(0, d.length - 1), int(1, 3), int(1, 3), fc.boolean()).map(([axis, w0, w1, both]) => {
        const x = d.map((n, k) => (k === axis ? w0 + w1 : n));
        const g = new GraphBuilder('test.Split');
        const [y0, y1] = g.nodeOutputs('Split', [g.input('x', x), g.constant(i64([2], [w0, w1]))], { axis: { i: axis } }, ['y0', 'y1']);
        // Both parts swapped, or the first alone (the second then has no cotangent).
        g.output(both ? g.node('Concat', [y1!, y0!], { axis: { i: axis } }) : g.node('Mul', [y0!, g.scalar(3)]), 'y', sym(d.length));
        return { model: g.toBytes(), wrt: ['x'] };
      }),
    ),
  );
});

describe('indexing rules', () => {
  property(
    'Slice',
    dims([1, 3], 5).chain((d) =>
      fc
        .tuple(
          fc.subarray(
            d.map((_, i) => i),
            { minLength: 1 },
          ),
          fc.array(fc.tuple(int(-6, 6), int(1, 6)), { minLength: 3, maxLength: 3 }),
          fc.boolean(),
        )
        .map(([axes, bounds, negAxes]) => {
          // starts anywhere (negative, beyond the end); ends at least one past the clamped start.
          const starts = axes.map((a, i) => bounds[i]![0] % (d[a]! + 1));
          const ends = axes.map((a, i) => {
            const s = starts[i]! < 0 ? Math.max(0, starts[i]! + d[a]!) : Math.min(starts[i]!, d[a]! - 1);
            return s + bounds[i]![1] > d[a]! ? 99 : s + bounds[i]![1];
          });
          const fixed = starts.map((s, i) => (s >= d[axes[i]!]! ? d[axes[i]!]! - 1 : s));
          const ax = negAxes ? axes.map((a) => a - d.length) : axes;
          return { model: opModel('Slice', [{ name: 'x', dims: d }], {}, sym(d.length), withInts(fixed, ends, ax)), wrt: ['x'] };
        }),
    ),
  );
  property(
    'Slice (strided, reversed)',
    dims([1, 3], 6).chain((d) =>
      fc
        .tuple(
          fc.subarray(
            d.map((_, i) => i),
            { minLength: 1 },
          ),
          fc.array(fc.tuple(int(-7, 7), int(-7, 7), fc.constantFrom(-3, -2, -1, 2, 3)), { minLength: 3, maxLength: 3 }),
        )
        .map(([axes, spec]) => {
          // Keep one visited index at least: start at the first or last sample when the draw is empty.
          const starts = axes.map((a, i) => (spec[i]![2] > 0 ? Math.min(spec[i]![0], d[a]! - 1) : Math.max(spec[i]![0], -d[a]!)));
          const ends = axes.map((_, i) => (spec[i]![2] > 0 ? 99 : -99));
          const steps = axes.map((_, i) => spec[i]![2]);
          return { model: opModel('Slice', [{ name: 'x', dims: d }], {}, sym(d.length), withInts(starts, ends, axes, steps)), wrt: ['x'] };
        }),
    ),
  );
  property(
    'Gather',
    dims([1, 3]).chain((d) =>
      fc
        .tuple(int(0, d.length - 1), fc.array(int(1, 3), { maxLength: 2 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 9, maxLength: 9 }))
        .map(([axis, idxDims, u]) => {
          const n = d[axis]!;
          const idx = Array.from({ length: size(idxDims) }, (_, i) => Math.floor(u[i % 9]! * 2 * n) - n); // repeats and negatives
          const g = new GraphBuilder('test.Gather');
          g.output(g.node('Gather', [g.input('x', d), g.constant(i64(idxDims, idx))], { axis: { i: axis } }), 'y', sym(d.length - 1 + idxDims.length));
          return { model: g.toBytes(), wrt: ['x'] };
        }),
    ),
  );
  property(
    'Pad',
    dims([1, 3], 3).chain((d) =>
      fc.array(int(-1, 2), { minLength: 2 * d.length, maxLength: 2 * d.length }).map((p) => {
        // At least one sample left along each axis after negative pads crop.
        const pads = p.map((v, i) => (d[i % d.length]! + Math.min(0, p[i % d.length]!) + Math.min(0, p[(i % d.length) + d.length]!) < 1 ? Math.max(v, 0) : v));
        const g = new GraphBuilder('test.Pad');
        g.output(g.node('Pad', [g.input('x', d), g.constant(i64([pads.length], pads)), g.scalar(0.5)], { mode: { s: 'constant' } }), 'y', sym(d.length));
        return { model: g.toBytes(), wrt: ['x'] };
      }),
    ),
  );
  // reflect / edge: pads up to n − 1 (ONNX Runtime reflects once), at least one sample kept.
  property(
    'Pad (reflect, edge)',
    fc
      .tuple(
        dims([1, 3], 4).map((d) => d.map((n) => n + 1)),
        fc.constantFrom('reflect', 'edge'),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
      )
      .map(([d, mode, u]) => {
        const pads = [...d, ...d].map((n, i) => Math.floor(u[i]! * n)); // 0 … n − 1
        const g = new GraphBuilder('test.PadReflect');
        g.output(g.node('Pad', [g.input('x', d), g.constant(i64([pads.length], pads))], { mode: { s: mode } }), 'y', sym(d.length));
        return { model: g.toBytes(), wrt: ['x'] };
      }),
  );
});

describe('resize rule', () => {
  property(
    'Resize',
    fc
      .record({
        mode: fc.constantFrom('nearest', 'linear'),
        ct: fc.constantFrom('asymmetric', 'half_pixel', 'align_corners', 'pytorch_half_pixel'),
        nearest: fc.constantFrom('floor', 'round_prefer_floor', 'ceil'),
        sh: fc.constantFrom(1, 2, 3),
        sw: fc.constantFrom(2, 0.5),
        bySizes: fc.boolean(),
        h: int(2, 4),
        w: int(2, 4),
      })
      .map(({ mode, ct, nearest, sh, sw, bySizes, h, w }) => {
        const x = [1, 2, h, 2 * w];
        const attrs: Record<string, AttrValue> = { mode: { s: mode }, coordinate_transformation_mode: { s: ct }, ...(mode === 'nearest' ? { nearest_mode: { s: nearest } } : {}) };
        const g = new GraphBuilder('test.Resize');
        const inp = g.input('x', x);
        const extra = bySizes ? ['', '', g.constant(i64([4], [1, 2, h * sh, 2 * w * sw]))] : ['', g.constant({ type: 'float32', dims: [4], data: [1, 1, sh, sw] })];
        g.output(g.node('Resize', [inp, ...extra], attrs), 'y', sym(4));
        return { model: g.toBytes(), wrt: ['x'] };
      }),
  );
});
