/**
 * VJPs of pooling. AveragePool: each output spreads ȳ/count over its window, a ConvTranspose of
 * ȳ/count with a ones kernel over channels folded into the batch (count = the window size, or
 * the in-bounds part of it without count_include_pad). GlobalAveragePool: ȳ/(H·W) broadcast.
 * MaxPool: ȳ scatter-added to the argmax of each window (MaxPool's own Indices output).
 */
import { f32 } from '../../builder';
import type { VjpContext, VjpRule } from '../context';

/** Static pooling geometry; ceil_mode, dilations and auto_pad other than NOTSET/VALID are refused. */
function poolGeometry(c: VjpContext): { kernel: number[]; strides: number[]; pads: number[]; inSize: number[]; outSize: number[] } {
  const xd = c.info(c.node.inputs[0]!).dims,
    yd = c.info(c.node.outputs[0]!).dims;
  const inSize = xd.slice(2),
    outSize = yd.slice(2);
  if ([...inSize, ...outSize].some((d) => d < 0)) throw c.refuse('spatial sizes depend on a symbolic input dimension; the VJP needs them static');
  if (c.attrInt('ceil_mode', 0)) throw c.refuse('ceil_mode = 1 is not differentiated');
  if ((c.attrInts('dilations') ?? []).some((d) => d !== 1)) throw c.refuse('dilated pooling is not differentiated');
  const autoPad = c.attrString('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw c.refuse(`auto_pad ${autoPad} is not differentiated; export with explicit pads`);
  const kernel = c.attrInts('kernel_shape')!;
  const s = kernel.length;
  const pads = autoPad === 'VALID' ? Array<number>(2 * s).fill(0) : (c.attrInts('pads') ?? Array<number>(2 * s).fill(0));
  return { kernel, strides: c.attrInts('strides') ?? Array<number>(s).fill(1), pads, inSize, outSize };
}

export const poolRules: Record<string, VjpRule> = {
  AveragePool: (c, [gy]) => {
    const x = c.node.inputs[0]!;
    const { kernel, strides, pads, inSize, outSize } = poolGeometry(c);
    const s = kernel.length;
    // Window sizes per output position (separable: a product of per-axis counts).
    const perAxis = outSize.map((m, a) =>
      Array.from({ length: m }, (_, i) => {
        if (c.attrInt('count_include_pad', 0)) return kernel[a]!;
        const lo = i * strides[a]! - pads[a]!;
        return Math.min(lo + kernel[a]!, inSize[a]!) - Math.max(lo, 0);
      }),
    );
    const total = outSize.reduce((p, q) => p * q, 1);
    const inv = new Float32Array(total);
    for (let k = 0; k < total; k++) {
      let rest = k,
        count = 1;
      for (let a = s - 1; a >= 0; a--) {
        count *= perAxis[a]![rest % outSize[a]!]!;
        rest = Math.floor(rest / outSize[a]!);
      }
      inv[k] = 1 / count;
    }
    const g = c.g;
    const scaled = g.node('Mul', [gy!, g.constant(f32([1, 1, ...outSize], inv))]);
    const folded = g.node('Reshape', [scaled, c.i64([-1, 1, ...outSize])]);
    const outputPadding = inSize.map((n, a) => n - ((outSize[a]! - 1) * strides[a]! + kernel[a]! - pads[a]! - pads[a + s]!));
    const ones = g.constant(f32([1, 1, ...kernel], new Float32Array(kernel.reduce((p, q) => p * q, 1)).fill(1)));
    const spread = g.node('ConvTranspose', [folded, ones], { strides: { ints: strides }, pads: { ints: pads }, output_padding: { ints: outputPadding } });
    return [c.reshapeLike(spread, x)];
  },
  GlobalAveragePool: (c, [gy]) => {
    const x = c.node.inputs[0]!;
    const spatial = c.info(x).dims.slice(2);
    if (spatial.some((d) => d < 0)) throw c.refuse('spatial sizes depend on a symbolic input dimension; the VJP needs them static');
    const n = spatial.reduce((p, q) => p * q, 1);
    return [c.g.node('Expand', [c.g.node('Mul', [gy!, c.scalar(1 / n)]), c.shape(x)])];
  },
  MaxPool: (c, [gy, gIndices]) => {
    if (gIndices !== undefined) throw c.refuse('the Indices output carries no gradient');
    const x = c.node.inputs[0]!;
    const g = c.g;
    if (c.attrInt('storage_order', 0)) throw c.refuse('storage_order = 1 is not differentiated');
    // The same pooling again, for its flat argmax indices (row-major over N, C and space).
    const [, indices] = g.nodeOutputs('MaxPool', [x], c.node.attrs, [c.fresh('maxpool'), c.fresh('argmax')]);
    const flat = g.node('ScatterElements', [g.node('Reshape', [c.zerosLike(x), c.i64([-1])]), g.node('Reshape', [indices!, c.i64([-1])]), g.node('Reshape', [gy!, c.i64([-1])])], {
      axis: { i: 0 },
      reduction: { s: 'add' },
    });
    return [c.reshapeLike(flat, x)];
  },
};
