/**
 * VJPs of the elementwise ops: arithmetic with NumPy broadcasting (cotangents summed back over the
 * broadcast axes), unary functions, Where and Clip. Forward values are reused where the
 * derivative is a function of the output (Sigmoid, Tanh, Exp, Sqrt, Div).
 */
import type { VjpContext, VjpRule } from '../context';

type Rules = Record<string, VjpRule>;

const unary =
  (local: (c: VjpContext, gy: string, x: string, y: string) => string): VjpRule =>
  (c, [gy]) =>
    gy === undefined ? [] : [local(c, gy, c.node.inputs[0]!, c.node.outputs[0]!)];

const mul = (c: VjpContext, a: string, b: string): string => c.g.node('Mul', [a, b]);

/** Where(mask, gy, 0): the cotangent passes where `mask` holds. */
const gate = (c: VjpContext, mask: string, gy: string): string => c.g.node('Where', [mask, gy, c.scalar(0)]);

export const elementwiseRules: Rules = {
  Add: (c, [gy]) => [c.needs(0) ? c.unbroadcast(gy!, c.node.inputs[0]!) : undefined, c.needs(1) ? c.unbroadcast(gy!, c.node.inputs[1]!) : undefined],
  Sub: (c, [gy]) => [c.needs(0) ? c.unbroadcast(gy!, c.node.inputs[0]!) : undefined, c.needs(1) ? c.unbroadcast(c.g.node('Neg', [gy!]), c.node.inputs[1]!) : undefined],
  Mul: (c, [gy]) => {
    const [a, b] = c.node.inputs as [string, string];
    return [c.needs(0) ? c.unbroadcast(mul(c, gy!, b), a) : undefined, c.needs(1) ? c.unbroadcast(mul(c, gy!, a), b) : undefined];
  },
  Div: (c, [gy]) => {
    const [a, b] = c.node.inputs as [string, string];
    const ga = c.needs(0) || c.needs(1) ? c.g.node('Div', [gy!, b]) : '';
    // ∂(a/b)/∂b = −(a/b)/b: reuse the forward quotient.
    return [c.needs(0) ? c.unbroadcast(ga, a) : undefined, c.needs(1) ? c.unbroadcast(c.g.node('Neg', [mul(c, ga, c.node.outputs[0]!)]), b) : undefined];
  },
  Pow: (c, [gy]) => {
    const [a, b] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    // d(aᵇ)/da = b·aᵇ⁻¹ (written with Pow rather than y/a, which is 0/0 at a = 0); d/db = aᵇ·ln a.
    const da = c.needs(0) ? mul(c, gy!, mul(c, b, c.g.node('Pow', [a, c.g.node('Sub', [b, c.scalar(1)])]))) : undefined;
    const db = c.needs(1) ? mul(c, gy!, mul(c, y, c.g.node('Log', [a]))) : undefined;
    return [da && c.unbroadcast(da, a), db && c.unbroadcast(db, b)];
  },
  Neg: unary((c, gy) => c.g.node('Neg', [gy])),
  Identity: unary((_, gy) => gy),
  Sqrt: unary((c, gy, _x, y) => c.g.node('Div', [gy, mul(c, c.scalar(2), y)])),
  Exp: unary((c, gy, _x, y) => mul(c, gy, y)),
  Log: unary((c, gy, x) => c.g.node('Div', [gy, x])),
  Reciprocal: unary((c, gy, _x, y) => c.g.node('Neg', [mul(c, gy, mul(c, y, y))])),
  Abs: unary((c, gy, x) => mul(c, gy, c.g.node('Sign', [x]))),
  Sin: unary((c, gy, x) => mul(c, gy, c.g.node('Cos', [x]))),
  Cos: unary((c, gy, x) => c.g.node('Neg', [mul(c, gy, c.g.node('Sin', [x]))])),
  Sigmoid: unary((c, gy, _x, y) => mul(c, gy, mul(c, y, c.g.node('Sub', [c.scalar(1), y])))),
  Tanh: unary((c, gy, _x, y) => mul(c, gy, c.g.node('Sub', [c.scalar(1), mul(c, y, y)]))),
  Relu: unary((c, gy, x) => gate(c, c.g.node('Greater', [x, c.scalar(0)]), gy)),
  LeakyRelu: unary((c, gy, x) => c.g.node('Where', [c.g.node('Greater', [x, c.scalar(0)]), gy, mul(c, gy, c.scalar(c.attrFloat('alpha', 0.01)))])),
  Softplus: unary((c, gy, x) => mul(c, gy, c.g.node('Sigmoid', [x]))),
  // d erf(x)/dx = 2/√π · exp(−x²)
  Erf: unary((c, gy, x) => mul(c, gy, mul(c, c.scalar(2 / Math.sqrt(Math.PI)), c.g.node('Exp', [c.g.node('Neg', [mul(c, x, x)])])))),
  Cast: unary((c, gy) => {
    const from = c.info(c.node.inputs[0]!).dtype;
    if (from !== 'float32') throw c.refuse(`Cast from ${from} lies on a differentiable path; only float32 is differentiated`);
    return gy;
  }),
  Dropout: (c, [gy]) => {
    if (c.node.inputs[2] && c.constant(c.node.inputs[2])?.data[0] !== 0)
      throw c.refuse('Dropout in training mode is random; only inference-mode Dropout (identity) is differentiated');
    return gy === undefined ? [] : [gy];
  },
  Where: (c, [gy]) => {
    const [cond, a, b] = c.node.inputs as [string, string, string];
    const zero = c.scalar(0);
    return [
      undefined,
      c.needs(1) ? c.unbroadcast(c.g.node('Where', [cond, gy!, zero]), a) : undefined,
      c.needs(2) ? c.unbroadcast(c.g.node('Where', [cond, zero, gy!]), b) : undefined,
    ];
  },
  // PyTorch's clamp convention: the cotangent passes where lo ≤ x ≤ hi, else goes to the bound hit.
  Clip: (c, [gy]) => {
    const [x, lo, hi] = c.node.inputs as [string, string | undefined, string | undefined];
    const inside: string[] = [];
    let below: string | undefined, above: string | undefined;
    if (lo) inside.push((below = c.g.node('Less', [x, lo])));
    if (hi) inside.push((above = c.g.node('Greater', [x, hi])));
    const out = inside.length === 0 ? undefined : inside.length === 1 ? inside[0]! : c.g.node('Or', inside);
    const gx = c.needs(0) ? (out ? c.g.node('Where', [out, c.scalar(0), gy!]) : gy) : undefined;
    const gBound = (hit: string | undefined, v: string | undefined, i: number): string | undefined =>
      hit && v && c.needs(i) ? c.unbroadcast(c.g.node('Where', [hit, gy!, c.scalar(0)]), v) : undefined;
    return [gx, gBound(below, lo, 1), gBound(above, hi, 2)];
  },
  Max: minMax('Greater'),
  Min: minMax('Less'),
};

/** Max/Min of two inputs: the cotangent goes to the winner (the first input on ties). */
function minMax(cmp: 'Greater' | 'Less'): VjpRule {
  return (c, [gy]) => {
    if (c.node.inputs.length !== 2) throw c.refuse(`${c.node.opType} of ${c.node.inputs.length} inputs; only two are differentiated`);
    const [a, b] = c.node.inputs as [string, string];
    const first = c.g.node('Not', [c.g.node(cmp, [b, a])]);
    const zero = c.scalar(0);
    return [c.needs(0) ? c.unbroadcast(c.g.node('Where', [first, gy!, zero]), a) : undefined, c.needs(1) ? c.unbroadcast(c.g.node('Where', [first, zero, gy!]), b) : undefined];
  };
}
