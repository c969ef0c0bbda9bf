/**
 * VJPs of Gemm and MatMul. For Y = α·op(A)·op(B) + β·C: Ā' = α·Ȳ·op(B)ᵀ, B̄' = α·op(A)ᵀ·Ȳ, mapped
 * back through op (a transpose), written as Gemms with the transposition flags; C̄ = β·Ȳ summed
 * over its broadcast axes. MatMul follows NumPy: 1-D operands are promoted (and the cotangent
 * with them), batch dimensions broadcast and are summed back.
 */
import type { VjpContext, VjpRule } from '../context';

const gemm = (c: VjpContext, a: string, b: string, transA: number, transB: number, alpha: number): string =>
  c.g.node('Gemm', [a, b], { alpha: { f: alpha }, transA: { i: transA }, transB: { i: transB } });

/** The last two axes of a rank-`r` value swapped. */
const swapLast = (c: VjpContext, v: string, r: number): string => c.g.node('Transpose', [v], { perm: { ints: [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2] } });

export const linearRules: Record<string, VjpRule> = {
  Gemm: (c, [gy]) => {
    const [a, b, cc] = c.node.inputs as [string, string, string | undefined];
    const alpha = c.attrFloat('alpha', 1),
      beta = c.attrFloat('beta', 1);
    const tA = c.attrInt('transA', 0),
      tB = c.attrInt('transB', 0);
    // A' = op(A), B' = op(B); Ā' = α Ȳ B'ᵀ and B̄' = α A'ᵀ Ȳ; Ā = Ā'ᵀ when transA, B̄ = B̄'ᵀ when transB.
    const ga = c.needs(0) ? (tA ? gemm(c, b, gy!, tB, 1, alpha) : gemm(c, gy!, b, 0, tB ? 0 : 1, alpha)) : undefined;
    const gb = c.needs(1) ? (tB ? gemm(c, gy!, a, 1, tA, alpha) : gemm(c, a, gy!, tA ? 0 : 1, 0, alpha)) : undefined;
    const gc = cc && c.needs(2) ? c.unbroadcast(beta === 1 ? gy! : c.g.node('Mul', [gy!, c.scalar(beta)]), cc) : undefined;
    return [ga, gb, gc];
  },
  MatMul: (c, [gy]) => {
    const [a, b] = c.node.inputs as [string, string];
    const ra = c.info(a).dims.length,
      rb = c.info(b).dims.length;
    const g = c.g;
    // Promote 1-D operands as NumPy does; the cotangent gains the axes the output lost.
    const a2 = ra === 1 ? g.node('Unsqueeze', [a, c.i64([0])]) : a;
    const b2 = rb === 1 ? g.node('Unsqueeze', [b, c.i64([1])]) : b;
    let gy2 = gy!;
    if (ra === 1 && rb === 1) gy2 = g.node('Reshape', [gy2, c.i64([1, 1])]);
    else if (ra === 1) gy2 = g.node('Unsqueeze', [gy2, c.i64([-2])]);
    else if (rb === 1) gy2 = g.node('Unsqueeze', [gy2, c.i64([-1])]);
    const r = Math.max(ra, rb, 2);
    const ga = c.needs(0) ? g.node('MatMul', [gy2, swapLast(c, b2, Math.max(rb, 2))]) : undefined;
    const gb = c.needs(1) ? g.node('MatMul', [swapLast(c, a2, Math.max(ra, 2)), gy2]) : undefined;
    // Batch axes: sum over those the operand lacks or broadcast (its own last two axes match).
    const back = (grad: string, operand: string, rank: number): string => {
      const od = c.info(operand).dims;
      const own = rank === 1 ? (operand === a ? [1, od[0]!] : [od[0]!, 1]) : od;
      const lead = r - own.length;
      const axes: number[] = [];
      for (let k = 0; k < r - 2; k++) if (k < lead || own[k - lead] === 1) axes.push(k);
      const summed = axes.length ? g.node('ReduceSum', [grad, c.i64(axes)], { keepdims: { i: 1 } }) : grad;
      return summed === grad && rank === r ? grad : c.reshapeLike(summed, operand);
    };
    return [ga && back(ga, a, ra), gb && back(gb, b, rb)];
  },
};
