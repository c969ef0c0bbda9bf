/**
 * VJPs of the indexing ops. Slice, unit steps: the cotangent zero-padded back to the input's
 * extent, the pads computed at run time from the (possibly computed) starts; other steps: the
 * transpose of each axis's selection. Gather: a
 * scatter-add of the cotangent at the gathered indices (ScatterElements, reduction 'add', so
 * repeated indices accumulate). Pad: constant mode, a Pad by the negated pads (which crops);
 * reflect and edge, the transpose of the per-axis selection of copied samples.
 */
import { f32, i64 } from '../../builder';
import type { VjpRule } from '../context';
import { adjointAlongAxis } from './resize';

/** The sample that padded position j (−pb ≤ j < n + pe) copies: mirrored without the edge, or the edge. */
function sourceIndex(j: number, n: number, mode: 'reflect' | 'edge'): number {
  if (mode === 'edge' || n === 1) return Math.min(n - 1, Math.max(0, j));
  const period = 2 * (n - 1);
  const k = ((j % period) + period) % period;
  return k < n ? k : period - k;
}

/** The indices a Slice visits along an axis of size n (ONNX clamping rules). */
function sliceIndices(start: number, end: number, step: number, n: number): number[] {
  const wrap = (v: number): number => (v < 0 ? v + n : v);
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const [s, e] = step > 0 ? [clamp(wrap(start), 0, n), clamp(wrap(end), 0, n)] : [clamp(wrap(start), 0, n - 1), clamp(wrap(end), -1, n - 1)];
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

export const indexRules: Record<string, VjpRule> = {
  Slice: (c, [gy]) => {
    const [x, starts, , axesIn, stepsIn] = c.node.inputs as [string, string, string, string | undefined, string | undefined];
    const y = c.node.outputs[0]!;
    const r = c.info(x).dims.length;
    const k = c.info(starts).dims[0]!;
    if (k < 0) throw c.refuse('the number of sliced axes must be static');
    const axes = (axesIn ? c.ints(axesIn, 'axes') : Array.from({ length: k }, (_, i) => i)).map((a) => (a + r) % r);
    const g = c.g;
    if (stepsIn && c.ints(stepsIn, 'steps').some((s) => s !== 1)) {
      // Strided or reversed: along each axis y = S x with S selecting the indices the slice
      // visits (constant bounds and static sizes needed), so x̄ = Sᵀ ȳ.
      const steps = c.ints(stepsIn, 'steps');
      const [s0, e0] = [c.ints(starts, 'starts with steps ≠ 1'), c.ints(c.node.inputs[2]!, 'ends with steps ≠ 1')];
      let out = gy!;
      axes.forEach((a, i) => {
        const n = c.info(x).dims[a]!;
        if (n < 0) throw c.refuse(`axis ${a} has a size that depends on a symbolic dimension; a strided Slice needs it static`);
        const idx = sliceIndices(s0[i]!, e0[i]!, steps[i]!, n);
        const sel = new Float32Array(idx.length * n);
        idx.forEach((j, row) => (sel[row * n + j] = 1));
        out = adjointAlongAxis(c, out, a, r, f32([idx.length, n], sel));
      });
      return [out];
    }
    const at = c.i64(axes);
    const dim = g.node('Gather', [c.shape(x), at], { axis: { i: 0 } });
    // begin = clamp(start < 0 ? start + dim : start, 0, dim); end pad = dim − begin − |y| along the axis.
    const s = g.node('Cast', [starts], { to: { i: 7 } });
    const wrapped = g.node('Where', [g.node('Less', [s, c.i64([0])]), g.node('Add', [s, dim]), s]);
    const begin = g.node('Min', [g.node('Max', [wrapped, c.i64([0])]), dim]);
    const end = g.node('Sub', [g.node('Sub', [dim, begin]), g.node('Gather', [c.shape(y), at], { axis: { i: 0 } })]);
    const pads = g.node(
      'ScatterElements',
      [g.constant(i64([2 * r], Array<number>(2 * r).fill(0))), c.i64([...axes, ...axes.map((a) => a + r)]), g.node('Concat', [begin, end], { axis: { i: 0 } })],
      {
        axis: { i: 0 },
      },
    );
    return [g.node('Pad', [gy!, pads], { mode: { s: 'constant' } })];
  },
  Gather: (c, [gy]) => {
    const [x, indices] = c.node.inputs as [string, string];
    const r = c.info(x).dims.length;
    const a = (c.attrInt('axis', 0) + r) % r;
    const g = c.g;
    const shape = c.shape(x);
    const part = (from: number, to: number): string => g.node('Slice', [shape, c.i64([from]), c.i64([to])]);
    // Ȳ with the index axes flattened into one: X's shape with −1 at the gathered axis.
    const flatShape = g.node('Concat', [part(0, a), c.i64([-1]), part(a + 1, r)], { axis: { i: 0 } });
    const gyFlat = g.node('Reshape', [gy!, flatShape]);
    const dimA = g.node('Gather', [shape, c.i64([a])], { axis: { i: 0 } });
    const idx = g.node('Reshape', [indices, c.i64(Array.from({ length: r }, (_, i) => (i === a ? -1 : 1)))]);
    const wrapped = g.node('Where', [g.node('Less', [idx, c.i64([0])]), g.node('Add', [idx, dimA]), idx]);
    const spread = g.node('Expand', [wrapped, g.node('Shape', [gyFlat])]);
    return [g.node('ScatterElements', [c.zerosLike(x), spread, gyFlat], { axis: { i: a }, reduction: { s: 'add' } })];
  },
  Pad: (c, [gy]) => {
    const [, pads, , axes] = c.node.inputs as [string, string, string | undefined, string | undefined];
    const mode = c.attrString('mode', 'constant');
    if (axes) throw c.refuse('Pad with an axes input is not differentiated');
    if (mode === 'constant') return [c.g.node('Pad', [gy!, c.g.node('Neg', [pads])], { mode: { s: 'constant' } })];
    if (mode !== 'reflect' && mode !== 'edge') throw c.refuse(`Pad mode '${mode}' is not differentiated`);
    // reflect / edge: along each padded axis y = S x with S a 0/1 selection (which sample each
    // padded position copies), so x̄ = Sᵀ ȳ folds every copy back onto its source.
    const p = c.ints(pads, 'pads');
    const xd = c.info(c.node.inputs[0]!).dims;
    const r = xd.length;
    let g = gy!;
    for (let a = 0; a < r; a++) {
      const [pb, pe, n] = [p[a]!, p[a + r]!, xd[a]!];
      if (pb === 0 && pe === 0) continue;
      if (pb < 0 || pe < 0 || n < 0) throw c.refuse(`${mode} padding needs static sizes and pads ≥ 0 (axis ${a})`);
      const m = n + pb + pe;
      const s = new Float32Array(m * n);
      for (let i = 0; i < m; i++) s[i * n + sourceIndex(i - pb, n, mode)] = 1;
      g = adjointAlongAxis(c, g, a, r, f32([m, n], s));
    }
    return [g];
  },
};
