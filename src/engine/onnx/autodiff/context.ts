/**
 * What a VJP rule sees: the node, the builder of the derived model, the probed shapes and
 * constant values of the forward graph, and helpers that every op family needs (undoing
 * broadcasting, run-time shapes, constants). Rules are pure functions of this context and of the
 * output cotangents; `registry.ts` keys them by op type.
 */
import type { GraphBuilder, TensorData } from '../builder';
import { f32, i64 } from '../builder';
import type { FwdNode } from './graph';
import { VjpError } from './graph';
import type { ValueInfo } from './probe';

/** The helpers a rule builds with; value names are those of the derived model's graph. */
export interface VjpContext {
  readonly g: GraphBuilder;
  readonly node: FwdNode;
  /** Probed element type and dims (-1 dynamic) of a forward value. */
  info(value: string): ValueInfo;
  /** The value of a constant (initializer or `Constant` output), if it is one. */
  constant(value: string): TensorData | undefined;
  /** The integers of a constant int64 value, or a refusal naming the node and `what`. */
  ints(value: string, what: string): number[];
  /** Whether input `i` of the node needs a gradient (lies on a differentiable path). */
  needs(i: number): boolean;
  /** A run-time `Shape` of a forward value (one node per value). */
  shape(value: string): string;
  /** An int64 1-D constant. */
  i64(values: readonly number[]): string;
  /** A float32 0-d constant. */
  scalar(v: number): string;
  /** Sums `grad` (shaped as the node's output `out`) down to the shape of input `input`. */
  unbroadcast(grad: string, input: string, out?: string): string;
  /** `grad` reshaped to the run-time shape of `like` (static when fully known). */
  reshapeLike(grad: string, like: string): string;
  /** float32 zeros shaped like the forward value `like`. */
  zerosLike(like: string): string;
  /** An attribute's int / ints / float / string, or `dflt`. */
  attrInt(name: string, dflt: number): number;
  attrInts(name: string): number[] | undefined;
  attrFloat(name: string, dflt: number): number;
  attrString(name: string, dflt: string): string;
  /** A value name unused in the derived model (for multi-output nodes). */
  fresh(hint: string): string;
  /** What an asynchronous preparation (registry `VJP_PREPARE`) computed for this node. */
  readonly prepared: unknown;
  /** A {@link VjpError} naming the node. */
  refuse(why: string): VjpError;
}

/** A VJP rule: the cotangents of the node's inputs (undefined: none) from those of its outputs. */
export type VjpRule = (ctx: VjpContext, gys: readonly (string | undefined)[]) => readonly (string | undefined)[];

/** Builds the context of `node`; `shapes` caches one `Shape` per value across rules. */
export function makeContext(
  g: GraphBuilder,
  node: FwdNode,
  infos: ReadonlyMap<string, ValueInfo>,
  constants: ReadonlyMap<string, TensorData>,
  needGrad: ReadonlySet<string>,
  shapes: Map<string, string>,
  fresh: (hint: string) => string,
  prepared?: unknown,
): VjpContext {
  const where = `node ${node.name} (${node.opType})`;
  const refuse = (why: string): VjpError => new VjpError(`${where}: ${why}`);
  const info = (v: string): ValueInfo => {
    const i = infos.get(v);
    if (!i) throw refuse(`no probed shape for value '${v}'`);
    return i;
  };
  const ctx: VjpContext = {
    g,
    node,
    info,
    constant: (v) => constants.get(v),
    ints(v, what) {
      const t = constants.get(v);
      if (!t || t.type !== 'int64') throw refuse(`${what} ('${v}') must be a constant int64 tensor`);
      return Array.from(t.data);
    },
    needs: (i) => needGrad.has(node.inputs[i] ?? ''),
    shape(v) {
      let s = shapes.get(v);
      if (!s) shapes.set(v, (s = g.node('Shape', [v])));
      return s;
    },
    i64: (values) => g.constant(i64([values.length], values)),
    scalar: (v) => g.constant(f32([], [v])),
    reshapeLike(grad, like) {
      const dims = info(like).dims;
      return g.node('Reshape', [grad, dims.every((d) => d >= 0) ? ctx.i64(dims) : ctx.shape(like)]);
    },
    unbroadcast(grad, input, out = node.outputs[0]!) {
      const o = info(out).dims,
        x = info(input).dims;
      const lead = o.length - x.length;
      const axes: number[] = [];
      for (let k = 0; k < o.length; k++) if (k < lead || (x[k - lead] === 1 && o[k] !== 1)) axes.push(k);
      if (axes.length === 0) return grad;
      const summed = g.node('ReduceSum', [grad, ctx.i64(axes)], { keepdims: { i: 1 } });
      // keepdims leaves the operand's own axes in place; only missing leading axes need a reshape.
      return lead > 0 ? ctx.reshapeLike(summed, input) : summed;
    },
    zerosLike: (like) => g.node('ConstantOfShape', [ctx.shape(like)], { value: { t: f32([1], [0]) } }),
    attrInt(name, dflt) {
      const a = node.attrs[name];
      return a && 'i' in a ? a.i : dflt;
    },
    attrInts(name) {
      const a = node.attrs[name];
      return a && 'ints' in a ? [...a.ints] : undefined;
    },
    attrFloat(name, dflt) {
      const a = node.attrs[name];
      return a && 'f' in a ? a.f : dflt;
    },
    attrString(name, dflt) {
      const a = node.attrs[name];
      return a && 's' in a ? a.s : dflt;
    },
    fresh,
    prepared,
    refuse,
  };
  return ctx;
}
