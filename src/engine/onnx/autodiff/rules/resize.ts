/**
 * VJP of Resize. Every mode ONNX Runtime implements for nearest, linear and cubic is separable:
 * along each resized axis, y = M x with an out × in matrix M. Rather than re-implementing the
 * coordinate transformation and rounding modes, M is read off ONNX Runtime itself at build time
 * (the same Resize node applied to an identity), so the adjoint x̄ = Mᵀ ȳ matches the forward
 * exactly; it is a MatMul with the resized axis moved last.
 */
import * as ort from 'onnxruntime-node';
import type { TensorData } from '../../builder';
import { f32, GraphBuilder } from '../../builder';
import type { VjpContext, VjpRule } from '../context';
import type { FwdNode } from '../graph';
import { VjpError } from '../graph';
import type { ValueInfo } from '../probe';

/** Per resized axis, its out × in matrix. */
type ResizeMatrices = { axis: number; matrix: TensorData }[];

/** Builds M for every axis whose size changes, by running the node's Resize on identities. */
export async function prepareResize(node: FwdNode, infos: ReadonlyMap<string, ValueInfo>, constants: ReadonlyMap<string, TensorData>): Promise<ResizeMatrices> {
  const where = `node ${node.name} (Resize)`;
  const mode = node.attrs.mode && 's' in node.attrs.mode ? node.attrs.mode.s : 'nearest';
  if (!['nearest', 'linear', 'cubic'].includes(mode)) throw new VjpError(`${where}: mode '${mode}' is not differentiated`);
  const ct = node.attrs.coordinate_transformation_mode;
  if (ct && 's' in ct && ct.s === 'tf_crop_and_resize') throw new VjpError(`${where}: tf_crop_and_resize is not differentiated`);
  const [x, , scalesIn] = node.inputs;
  const xd = infos.get(x!)!.dims,
    yd = infos.get(node.outputs[0]!)!.dims;
  const scales = scalesIn ? constants.get(scalesIn) : undefined;
  if (scalesIn && !scales) throw new VjpError(`${where}: scales must be a constant`);
  const out: ResizeMatrices = [];
  for (let a = 0; a < xd.length; a++) {
    const n = xd[a]!,
      m = yd[a]!;
    const scale = scales && scales.data.length ? Number(scales.data[a]) : m / n;
    if (scale === 1 && n === m) continue;
    if (n < 0 || m < 0) throw new VjpError(`${where}: axis ${a} is resized between sizes that depend on a symbolic dimension; they must be static`);
    const b = a === 0 ? 1 : 0; // the axis that carries the identity's columns
    const dims = xd.map((_, i) => (i === a || i === b ? n : 1));
    const g = new GraphBuilder('resize.matrix');
    const inp = g.input('x', dims);
    const attrs = { ...node.attrs };
    const sizes = dims.map((d, i) => (i === a ? m : d));
    const useScales = scales && scales.data.length;
    const args = useScales
      ? [
          inp,
          '',
          g.constant(
            f32(
              [dims.length],
              dims.map((_, i) => (i === a ? scale : 1)),
            ),
          ),
        ]
      : [inp, '', '', g.constant({ type: 'int64', dims: [sizes.length], data: sizes })];
    g.output(
      g.node('Resize', args, attrs),
      'y',
      sizes.map((d, i) => (useScales && i === a ? m : d)),
    );
    const session = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['cpu'], logSeverityLevel: 3 });
    const eye = new Float32Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    try {
      const y = (await session.run({ x: new ort.Tensor('float32', eye, dims) })).y!;
      if (y.dims[a] !== m) throw new VjpError(`${where}: resizing axis ${a} alone gives ${y.dims[a]} samples, the model ${m}`);
      const v = y.data as Float32Array;
      // y holds [identity column j at axis b][output i at axis a]; M[i][j].
      const M = new Float32Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) M[i * n + j] = b < a ? v[j * m + i]! : v[i * n + j]!;
      out.push({ axis: a, matrix: f32([m, n], M) });
    } finally {
      await session.release();
    }
  }
  return out;
}

/**
 * x̄ along one axis of a separable linear map y = M x (M out × in): the axis moved last,
 * contracted with M (x̄ = ȳ M), moved back.
 */
export function adjointAlongAxis(c: VjpContext, gy: string, axis: number, rank: number, matrix: TensorData): string {
  const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
  const inverse = Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  const moved = c.g.node('Transpose', [gy], { perm: { ints: perm } });
  return c.g.node('Transpose', [c.g.node('MatMul', [moved, c.g.constant(matrix)])], { perm: { ints: inverse } });
}

export const resizeRules: Record<string, VjpRule> = {
  Resize: (c, [gy]) => {
    const r = c.info(c.node.inputs[0]!).dims.length;
    let g = gy!;
    for (const { axis, matrix } of c.prepared as ResizeMatrices) g = adjointAlongAxis(c, g, axis, r, matrix);
    return [g];
  },
};
