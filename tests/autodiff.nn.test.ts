/**
 * The VJP rules of the network ops against central differences over random shapes and
 * attributes (tests/autodiff.cases.ts): Gemm (transpositions, α, β, broadcast C), MatMul (1-D
 * operands, batch broadcasting), Conv (1-D/2-D, stride, padding, dilation, groups, SAME_UPPER,
 * weight and bias), ConvTranspose (output_padding, groups), Instance/LayerNormalization, pooling.
 */
import fc from 'fast-check';
import { describe } from 'vitest';
import type { AttrValue } from '../src/engine/onnx/builder';
import { GraphBuilder } from '../src/engine/onnx/builder';
import { opModel, property, reportWorst, sym } from './autodiff.cases';

reportWorst();

const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });

describe('linear rules', () => {
  property(
    'Gemm',
    fc
      .record({
        m: int(1, 4),
        k: int(1, 4),
        n: int(1, 4),
        tA: int(0, 1),
        tB: int(0, 1),
        alpha: fc.constantFrom(1, 0.5, -2),
        beta: fc.constantFrom(1, 0.7),
        c: fc.constantFrom('n', 'mn', '1n', 'm1', 'none'),
      })
      .map(({ m, k, n, tA, tB, alpha, beta, c }) => {
        const cDims = { n: [n], mn: [m, n], '1n': [1, n], m1: [m, 1], none: [] }[c];
        const ins = [{ name: 'a', dims: tA ? [k, m] : [m, k] }, { name: 'b', dims: tB ? [n, k] : [k, n] }, ...(c === 'none' ? [] : [{ name: 'c', dims: cDims }])];
        return { model: opModel('Gemm', ins, { transA: { i: tA }, transB: { i: tB }, alpha: { f: alpha }, beta: { f: beta } }, [m, n]), wrt: ins.map((i) => i.name) };
      }),
  );
  const batch = fc.array(int(1, 3), { maxLength: 2 });
  property(
    'MatMul',
    fc
      .record({
        m: int(1, 4),
        k: int(1, 4),
        n: int(1, 4),
        ba: batch,
        bb: batch,
        ra1: fc.boolean(),
        rb1: fc.boolean(),
        ones: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      })
      .map(({ m, k, n, ba, bb, ra1, rb1, ones }) => {
        // b's batch broadcasts against a's: a suffix of it with some dims 1.
        const bBatch = ba.slice(ba.length - Math.min(ba.length, bb.length)).map((d, i) => (ones[i] ? 1 : d));
        const a = ra1 ? [k] : [...ba, m, k];
        const b = rb1 ? [k] : [...bBatch, k, n];
        const rank = ra1 && rb1 ? 0 : ra1 ? b.length - 1 : rb1 ? a.length - 1 : Math.max(a.length, b.length);
        return {
          model: opModel(
            'MatMul',
            [
              { name: 'a', dims: a },
              { name: 'b', dims: b },
            ],
            {},
            sym(rank),
          ),
          wrt: ['a', 'b'],
        };
      }),
  );
});

describe('convolution rules', () => {
  property(
    'Conv',
    fc
      .record({
        s: int(1, 2),
        group: int(1, 2),
        ci: int(1, 2),
        co: int(1, 2),
        k: int(1, 3),
        stride: int(1, 2),
        dil: int(1, 2),
        pad: int(0, 2),
        size: int(5, 7),
        bias: fc.boolean(),
        same: fc.boolean(),
      })
      .map(({ s, group, ci, co, k, stride, dil, pad, size, bias, same }) => {
        const spatial = Array<number>(s).fill(size);
        const attrs: Record<string, AttrValue> = { strides: { ints: Array(s).fill(stride) }, dilations: { ints: Array(s).fill(dil) }, group: { i: group } };
        if (same && dil === 1) attrs.auto_pad = { s: 'SAME_UPPER' };
        else attrs.pads = { ints: Array(2 * s).fill(pad) };
        const ins = [
          { name: 'x', dims: [2, group * ci, ...spatial] },
          { name: 'w', dims: [group * co, ci, ...Array<number>(s).fill(k)] },
          ...(bias ? [{ name: 'b', dims: [group * co] }] : []),
        ];
        // The weight cotangent is implemented for group 1.
        return { model: opModel('Conv', ins, attrs, sym(s + 2)), wrt: ins.map((i) => i.name).filter((n) => group === 1 || n !== 'w') };
      }),
  );
  property(
    'ConvTranspose',
    fc
      .record({
        group: int(1, 2),
        ci: int(1, 2),
        co: int(1, 2),
        k: int(1, 3),
        stride: int(1, 2),
        dil: int(1, 2),
        pad: int(0, 1),
        op: int(0, 1),
        size: int(3, 5),
        bias: fc.boolean(),
      })
      .map(({ group, ci, co, k, stride, dil, pad, op, size, bias }) => {
        const attrs: Record<string, AttrValue> = {
          strides: { ints: [stride, stride] },
          dilations: { ints: [dil, dil] },
          group: { i: group },
          pads: { ints: [pad, pad, pad, pad] },
          output_padding: { ints: Array(2).fill(Math.min(op, Math.max(stride, dil) - 1)) },
        };
        const ins = [{ name: 'x', dims: [2, group * ci, size, size] }, { name: 'w', dims: [group * ci, co, k, k] }, ...(bias ? [{ name: 'b', dims: [group * co] }] : [])];
        return { model: opModel('ConvTranspose', ins, attrs, sym(4)), wrt: ins.map((i) => i.name).filter((n) => n !== 'w') };
      }),
  );
});

describe('normalisation rules', () => {
  property(
    'InstanceNormalization',
    fc.record({ n: int(1, 2), c: int(1, 3), spatial: fc.array(int(2, 4), { minLength: 1, maxLength: 2 }) }).map(({ n, c, spatial }) => ({
      model: opModel(
        'InstanceNormalization',
        [
          { name: 'x', dims: [n, c, ...spatial] },
          { name: 'scale', dims: [c] },
          { name: 'bias', dims: [c] },
        ],
        { epsilon: { f: 1e-5 } },
        sym(2 + spatial.length),
      ),
      wrt: ['x', 'scale', 'bias'],
    })),
  );
  property(
    'LayerNormalization',
    fc
      .array(int(2, 4), { minLength: 1, maxLength: 3 })
      .chain((d) => fc.tuple(fc.constant(d), int(-d.length, d.length - 1)))
      .map(([d, axis]) => {
        const norm = d.slice((axis + d.length) % d.length);
        return {
          model: opModel(
            'LayerNormalization',
            [
              { name: 'x', dims: d },
              { name: 'scale', dims: norm },
              { name: 'bias', dims: norm },
            ],
            { axis: { i: axis }, epsilon: { f: 1e-5 } },
            sym(d.length),
          ),
          wrt: ['x', 'scale', 'bias'],
        };
      }),
  );
  // GroupNormalization as PyTorch exports it: Reshape → InstanceNormalization → Reshape → Mul → Add.
  property(
    'GroupNorm (PyTorch export)',
    fc.record({ groups: int(1, 2), per: int(1, 2), hw: int(2, 3) }).map(({ groups, per, hw }) => {
      const c = groups * per;
      const g = new GraphBuilder('test.groupnorm');
      const x = g.input('x', [2, c, hw, hw]);
      const gamma = g.input('gamma', [c, 1, 1]);
      const beta = g.input('beta', [c, 1, 1]);
      const grouped = g.node('Reshape', [x, g.constant({ type: 'int64', dims: [3], data: [0, groups, -1] })]);
      const ones = g.constant({ type: 'float32', dims: [groups], data: Array(groups).fill(1) });
      const zeros = g.constant({ type: 'float32', dims: [groups], data: Array(groups).fill(0) });
      const normed = g.node('Reshape', [g.node('InstanceNormalization', [grouped, ones, zeros], { epsilon: { f: 1e-5 } }), g.node('Shape', [x])]);
      g.output(g.node('Add', [g.node('Mul', [normed, gamma]), beta]), 'y', [2, c, hw, hw]);
      return { model: g.toBytes(), wrt: ['x', 'gamma', 'beta'] };
    }),
  );
});

describe('pooling rules', () => {
  const pool = fc
    .record({ s: int(1, 2), k: int(1, 3), stride: int(1, 2), pad: int(0, 2), size: int(4, 6), includePad: int(0, 1) })
    .map((p) => ({ ...p, pad: Math.min(p.pad, p.k - 1) }));
  property(
    'AveragePool',
    pool.map(({ s, k, stride, pad, size, includePad }) => ({
      model: opModel(
        'AveragePool',
        [{ name: 'x', dims: [2, 2, ...Array<number>(s).fill(size)] }],
        { kernel_shape: { ints: Array(s).fill(k) }, strides: { ints: Array(s).fill(stride) }, pads: { ints: Array(2 * s).fill(pad) }, count_include_pad: { i: includePad } },
        sym(s + 2),
      ),
      wrt: ['x'],
    })),
  );
  // Distinct values 0.1 apart (a random permutation), so a step of 1e-2 (with |u| < 5) never changes an argmax.
  property(
    'MaxPool',
    fc.tuple(pool, fc.integer({ min: 1, max: 1 << 30 })).map(([{ s, k, stride, pad, size }, seed]) => {
      const dims = [2, 2, ...Array<number>(s).fill(size)];
      const n = dims.reduce((a, b) => a * b, 1);
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ((a * 2654435761 + seed) % 1000003) - ((b * 2654435761 + seed) % 1000003));
      const attrs = { kernel_shape: { ints: Array(s).fill(k) }, strides: { ints: Array(s).fill(stride) }, pads: { ints: Array(2 * s).fill(pad) } };
      return {
        model: opModel('MaxPool', [{ name: 'x', dims }], attrs, sym(s + 2)),
        wrt: ['x'],
        feeds: { x: { type: 'float32' as const, dims, data: Float32Array.from(order, (o) => (o - n / 2) * 0.1) } },
      };
    }),
  );
  property(
    'GlobalAveragePool',
    fc
      .array(int(1, 4), { minLength: 1, maxLength: 2 })
      .map((spatial) => ({ model: opModel('GlobalAveragePool', [{ name: 'x', dims: [2, 3, ...spatial] }], {}, sym(2 + spatial.length)), wrt: ['x'] })),
  );
});
