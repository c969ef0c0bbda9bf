/**
 * VJPs of InstanceNormalization and LayerNormalization (GroupNormalization as PyTorch exports it
 * is Reshape → InstanceNormalization → Reshape → Mul → Add, differentiated through its parts).
 * With x̂ = (x − μ)/σ over the normalised axes and ḡ = ȳ·γ:
 * x̄ = (ḡ − mean(ḡ) − x̂·mean(ḡ·x̂))/σ, γ̄ = Σ ȳ·x̂, β̄ = Σ ȳ over the other axes.
 * μ and σ are recomputed from the forward input (the ops do not output them in inference form).
 */
import type { VjpContext, VjpRule } from '../context';

function normBackward(c: VjpContext, gy: string, x: string, gamma: string, axes: number[], eps: number): { gx: string; xhat: string } {
  const g = c.g;
  const mean = (v: string): string => g.node('ReduceMean', [v], { axes: { ints: axes }, keepdims: { i: 1 } });
  const xc = g.node('Sub', [x, mean(x)]);
  const inv = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [mean(g.node('Mul', [xc, xc])), c.scalar(eps)])])]);
  const xhat = g.node('Mul', [xc, inv]);
  const gh = g.node('Mul', [gy, gamma]);
  const inner = g.node('Sub', [g.node('Sub', [gh, mean(gh)]), g.node('Mul', [xhat, mean(g.node('Mul', [gh, xhat]))])]);
  return { gx: g.node('Mul', [inner, inv]), xhat };
}

export const normRules: Record<string, VjpRule> = {
  InstanceNormalization: (c, [gy]) => {
    const [x, scale] = c.node.inputs as [string, string];
    const r = c.info(x).dims.length;
    const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
    // γ, β are [C]: broadcast over the spatial axes as [C, 1, …, 1].
    const gamma = c.g.node('Unsqueeze', [scale, c.i64(spatial.map((a) => a - 1))]);
    const { gx, xhat } = normBackward(c, gy!, x, gamma, spatial, c.attrFloat('epsilon', 1e-5));
    const perChannel = (v: string): string => c.g.node('ReduceSum', [v, c.i64([0, ...spatial])], { keepdims: { i: 0 } });
    return [c.needs(0) ? gx : undefined, c.needs(1) ? perChannel(c.g.node('Mul', [gy!, xhat])) : undefined, c.needs(2) ? perChannel(gy!) : undefined];
  },
  LayerNormalization: (c, [gy, gMean, gInv]) => {
    if (gMean !== undefined || gInv !== undefined) throw c.refuse('its Mean / InvStdDev outputs lie on a differentiable path; only the normalised output is differentiated');
    const [x, scale, bias] = c.node.inputs as [string, string, string | undefined];
    const r = c.info(x).dims.length;
    const axis = ((c.attrInt('axis', -1) % r) + r) % r;
    const axes = Array.from({ length: r - axis }, (_, i) => i + axis);
    const { gx, xhat } = normBackward(c, gy!, x, scale, axes, c.attrFloat('epsilon', 1e-5));
    return [c.needs(0) ? gx : undefined, c.needs(1) ? c.unbroadcast(c.g.node('Mul', [gy!, xhat]), scale) : undefined, bias && c.needs(2) ? c.unbroadcast(gy!, bias) : undefined];
  },
};
