/**
 * VJPs of Conv and ConvTranspose, which are each other's adjoints for the same weight tensor and
 * the same strides, pads, dilations and groups. Conv's input cotangent is a ConvTranspose whose
 * output_padding restores the rows a stride dropped; its weight cotangent (group 1) is the
 * correlation of the input with the output cotangent, batch and channels swapped (stride and
 * dilation trade places). Spatial sizes must be static (they are, in the networks we ship).
 */
import type { VjpContext, VjpRule } from '../context';

interface ConvGeometry {
  strides: number[];
  dilations: number[];
  pads: number[]; // begin…, end…
  kernel: number[];
  inSize: number[];
  outSize: number[];
  group: number;
}

function geometry(c: VjpContext, transposed: boolean): ConvGeometry {
  const [x, w] = c.node.inputs as [string, string];
  const y = c.node.outputs[0]!;
  const xd = c.info(x).dims,
    wd = c.info(w).dims,
    yd = c.info(y).dims;
  const s = xd.length - 2;
  const inSize = xd.slice(2),
    outSize = yd.slice(2),
    kernel = wd.slice(2);
  if ([...inSize, ...outSize, ...kernel].some((d) => d < 0)) throw c.refuse('spatial sizes depend on a symbolic input dimension; the VJP needs them static');
  const ones = Array<number>(s).fill(1);
  const strides = c.attrInts('strides') ?? ones;
  const dilations = c.attrInts('dilations') ?? ones;
  const autoPad = c.attrString('auto_pad', 'NOTSET');
  let pads = c.attrInts('pads') ?? Array<number>(2 * s).fill(0);
  if (autoPad === 'VALID') pads = Array<number>(2 * s).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    if (transposed) throw c.refuse(`auto_pad ${autoPad} on ConvTranspose is not supported; export with explicit pads`);
    const total = inSize.map((n, i) => Math.max(0, (Math.ceil(n / strides[i]!) - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - n));
    const begin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [...begin, ...total.map((t, i) => t - begin[i]!)];
  } else if (autoPad !== 'NOTSET') throw c.refuse(`unknown auto_pad '${autoPad}'`);
  return { strides, dilations, pads, kernel, inSize, outSize, group: c.attrInt('group', 1) };
}

const attrs = (geo: ConvGeometry): Record<string, { ints: number[] } | { i: number }> => ({
  strides: { ints: geo.strides },
  dilations: { ints: geo.dilations },
  pads: { ints: geo.pads },
  group: { i: geo.group },
});

/** Σ over batch and spatial axes: the bias cotangent. */
const biasGrad = (c: VjpContext, gy: string): string =>
  c.g.node(
    'ReduceSum',
    [
      gy,
      c.i64([
        0,
        ...c
          .info(c.node.outputs[0]!)
          .dims.slice(2)
          .map((_, i) => i + 2),
      ]),
    ],
    { keepdims: { i: 0 } },
  );

const swap01 = (c: VjpContext, v: string, rank: number): string => c.g.node('Transpose', [v], { perm: { ints: [1, 0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)] } });

export const convRules: Record<string, VjpRule> = {
  Conv: (c, [gy]) => {
    const [x, w, b] = c.node.inputs as [string, string, string | undefined];
    const geo = geometry(c, false);
    const s = geo.inSize.length;
    let gx: string | undefined, gw: string | undefined;
    const fullPads = geo.kernel.map((k, i) => (k - 1) * geo.dilations[i]!);
    const flipPads = [...fullPads.map((f, i) => f - geo.pads[i]!), ...fullPads.map((f, i) => f - geo.pads[i + s]!)];
    if (c.needs(0) && geo.strides.every((st) => st === 1) && geo.group === 1 && flipPads.every((p) => p >= 0)) {
      // Unit stride: the adjoint is a correlation with the flipped, channel-swapped kernel, which
      // runs on ONNX Runtime's faster Conv kernels (ConvTranspose on CPU goes through col2im).
      const flipped = c.g.node('Slice', [
        w,
        c.i64(geo.kernel.map(() => -1)),
        c.i64(geo.kernel.map(() => -(2 ** 62))),
        c.i64(geo.kernel.map((_, i) => i + 2)),
        c.i64(geo.kernel.map(() => -1)),
      ]);
      gx = c.g.node('Conv', [gy!, swap01(c, flipped, s + 2)], { dilations: { ints: geo.dilations }, pads: { ints: flipPads } });
    } else if (c.needs(0)) {
      // The size a ConvTranspose of the output gives, short of what the stride cut off.
      const outputPadding = geo.inSize.map(
        (n, i) => n - ((geo.outSize[i]! - 1) * geo.strides[i]! + (geo.kernel[i]! - 1) * geo.dilations[i]! + 1 - geo.pads[i]! - geo.pads[i + s]!),
      );
      gx = c.g.node('ConvTranspose', [gy!, w], { ...attrs(geo), output_padding: { ints: outputPadding } });
    }
    if (c.needs(1)) {
      if (geo.group !== 1) throw c.refuse(`the weight cotangent of a grouped convolution (group ${geo.group}) is not implemented`);
      // W̄[o, c, k] = Σ_n,p Ȳ[n, o, p] X_pad[n, c, p·s + k·d]: a correlation over the batch.
      const corr = c.g.node('Conv', [swap01(c, x, s + 2), swap01(c, gy!, s + 2)], { strides: { ints: geo.dilations }, dilations: { ints: geo.strides }, pads: { ints: geo.pads } });
      const cut = c.g.node('Slice', [corr, c.i64(geo.kernel.map(() => 0)), c.i64(geo.kernel), c.i64(geo.kernel.map((_, i) => i + 2))]);
      gw = swap01(c, cut, s + 2);
    }
    return [gx, gw, b && c.needs(2) ? biasGrad(c, gy!) : undefined];
  },
  ConvTranspose: (c, [gy]) => {
    const [, w, b] = c.node.inputs as [string, string, string | undefined];
    if (c.attrInts('output_shape')) throw c.refuse('ConvTranspose with output_shape is not supported; export with explicit pads and output_padding');
    const geo = geometry(c, true);
    if (c.needs(1)) throw c.refuse('the weight cotangent of ConvTranspose is not implemented');
    // ConvTranspose is the adjoint of Conv with the same weights; output_padding only adds rows Conv never reads.
    const gx = c.needs(0) ? c.g.node('Conv', [gy!, w], attrs(geo)) : undefined;
    return [gx, undefined, b && c.needs(2) ? biasGrad(c, gy!) : undefined];
  },
};
