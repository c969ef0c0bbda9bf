/**
 * The ONNX lowering of a folder operator is its own files: apply.onnx, and the adjoint.onnx it
 * passed the adjoint test with (or vjp.onnx), each wrapped into the lowering convention of
 * `onnx/operators.ts` — inputs `x` (and `v`), output `y`, batch `N` — by inlining it under the
 * card's tensor names. The fused iteration then inlines those like any lowered operator. A VJP
 * derived from apply.onnx is lowered the same way, and for a linear operator it is the adjoint.
 */
import { f32, GraphBuilder, i64 } from '../../onnx/builder';
import type { Dim } from '../../onnx/builder';
import { inlineModel } from '../../onnx/inline';
import type { ForwardModel } from '../types';
import { OnnxOperatorError } from './card';
import type { OperatorModel } from './files';
import type { OnnxForwardModel } from './load';
import { ONNX_OPERATOR_ID } from './load';

/** What `lowerOperator` returns (kept structural here, so this module does not import it). */
export interface LoweredFiles {
  readonly apply: Uint8Array;
  readonly adjoint?: Uint8Array;
  readonly vjp?: Uint8Array;
}

const batched = (shape: readonly number[]): Dim[] => ['N', ...shape];

/** `m` with its inputs renamed by role (x, y→x for the adjoint, v) and its output named `y`. */
function wrap(op: OnnxForwardModel, m: OperatorModel, role: 'apply' | 'adjoint' | 'vjp'): Uint8Array {
  if (!m.anyBatch) throw new OnnxOperatorError(`${m.file}: has a fixed batch of 1, so it cannot be inlined into an iteration over N samples (export it with a dynamic batch axis)`);
  const g = new GraphBuilder(`${op.card.name}.${role}`);
  const inputs: Record<string, string> = {};
  if (role === 'adjoint') inputs[m.inputs.y!] = g.input('x', batched(op.outShape));
  else inputs[m.inputs.x!] = g.input('x', batched(op.inShape));
  if (role === 'vjp') inputs[m.inputs.v!] = g.input('v', batched(op.outShape));
  const out = inlineModel(g, m.bytes, inputs, role);
  g.output(out, 'y', batched(role === 'apply' ? op.outShape : op.inShape));
  return g.toBytes(`${op.card.name} ${role}: ${m.file}`);
}

/**
 * The adjoint y → x of a linear folder operator whose VJP was derived from apply.onnx: that VJP
 * taken at x = 0 (a linear map's VJP is its adjoint and does not read x), the zeros shaped from
 * y's batch at run time.
 */
function adjointFromVjp(op: OnnxForwardModel, m: OperatorModel): Uint8Array {
  if (!m.anyBatch)
    throw new OnnxOperatorError(`${m.file}: has a fixed batch of 1, so it cannot be inlined into an iteration over N samples (export apply.onnx with a dynamic batch axis)`);
  const g = new GraphBuilder(`${op.card.name}.adjoint`);
  const y = g.input('x', batched(op.outShape));
  const n = g.node('Slice', [g.node('Shape', [y]), g.constant(i64([1], [0])), g.constant(i64([1], [1]))]);
  const zeros = g.node('ConstantOfShape', [g.node('Concat', [n, g.constant(i64([op.inShape.length], op.inShape))], { axis: { i: 0 } })], { value: { t: f32([1], [0]) } });
  const out = inlineModel(g, m.bytes, { [m.inputs.x!]: zeros, [m.inputs.v!]: y }, 'adjoint');
  g.output(out, 'y', batched(op.inShape));
  return g.toBytes(`${op.card.name} adjoint: the VJP derived from apply.onnx at x = 0`);
}

/** Whether `op` is an ONNX folder operator with its model files (a loaded one, or one wrapped with a prox). */
function folderOperator(op: ForwardModel): OnnxForwardModel | undefined {
  const f = op as Partial<OnnxForwardModel>;
  return op.id === ONNX_OPERATOR_ID && f.models && f.card ? (op as OnnxForwardModel) : undefined;
}

/**
 * The lowered models of an ONNX folder operator: its own apply, and its verified adjoint (linear)
 * or its vjp.onnx.
 * @throws OnnxOperatorError for a model with a fixed batch, or one the inliner refuses (opset,
 *   operator domain, external weights), naming the file
 */
export function lowerFolderOperator(op: ForwardModel): LoweredFiles {
  const f = folderOperator(op);
  if (!f) throw new OnnxOperatorError(`operator ${op.id}: not a loaded ONNX operator folder`);
  const { apply, adjoint, vjp } = f.models;
  try {
    const lowered = { apply: wrap(f, apply, 'apply') };
    if (adjoint && f.adjoint) return { ...lowered, adjoint: wrap(f, adjoint, 'adjoint') };
    if (vjp?.derived && f.adjoint) return { ...lowered, adjoint: adjointFromVjp(f, vjp) };
    if (vjp) return { ...lowered, vjp: wrap(f, vjp, 'vjp') };
    throw new OnnxOperatorError(`operator folder ${f.dir}: no adjoint or VJP model to inline`);
  } catch (e) {
    if (e instanceof OnnxOperatorError) throw e;
    throw new OnnxOperatorError(`operator folder ${f.dir}: ${(e as Error).message}`, { cause: e });
  }
}

/** The run note for a fused iteration with this operator inlined, or '' for other operators. */
export function fusedOperatorNote(op: ForwardModel): string {
  const f = folderOperator(op);
  if (!f) return '';
  const files = [f.models.apply, f.models.adjoint ?? f.models.vjp].filter((m) => m !== undefined).map((m) => m.file.split(/[\\/]/).pop());
  return `; operator ${f.card.name} (${f.dir}) inlined from its own ${files.join(' and ')}`;
}
