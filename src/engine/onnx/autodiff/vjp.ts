/**
 * `vjpModel(model, wrt)`: the vector-Jacobian product of an ONNX model as another ONNX model.
 * Its inputs are the model's inputs and a cotangent `v` shaped as the chosen output; its outputs
 * are (∂y/∂x)ᵀ v for each chosen input x (named `grad_<x>`). Forward and backward live in one
 * graph, so the forward values the rules reuse are computed once.
 *
 * The walk: values reachable from the chosen inputs through float32 values (stopping at ops with
 * no gradient, such as Shape) and from which the output is reachable are differentiable; the
 * nodes producing them are differentiated in reverse topological order, a value's cotangent is
 * the Sum of the contributions of its consumers. Only the forward nodes the backward reads are
 * kept. Refused up front: a differentiable path through an op without a rule (op type and node
 * named), no float path at all from an input to the output, non-float inputs, and what
 * `readModel` refuses.
 */
import type { TensorData } from '../builder';
import { f32, GraphBuilder, i64, ModelProto } from '../builder';
import { makeContext } from './context';
import type { FwdGraph, FwdNode } from './graph';
import { readModel, VjpError } from './graph';
import type { ValueInfo } from './probe';
import { probeValues } from './probe';
import { VJP_PREPARE, VJP_RULES, ZERO_GRADIENT_OPS } from './registry';

/** Options of {@link vjpModel}. */
export interface VjpOptions {
  /** The output to differentiate (default: the model's first). */
  output?: string;
  /** Name of the cotangent input (default `v`, or `cotangent` when the model has a value `v`). */
  cotangent?: string;
  /** Also output the forward output (under its own name), computed by the same graph. */
  keepOutput?: boolean;
  /** Size of each symbolic input dimension for the build-time shape probe (default 2). */
  probeDims?: Readonly<Record<string, number>>;
  /** For messages: the model's file name. */
  file?: string;
  /**
   * Also output every cotangent the backward computes (`trace/<k>`), listed in
   * {@link VjpModel.trace} in the order computed: what `firstNonFinite` reads to name the op
   * where a NaN or Inf first appears.
   */
  trace?: boolean;
}

/** One backward step of a traced VJP: the forward node and the graph outputs holding its input cotangents. */
export interface VjpTraceStep {
  /** The forward node's name (`opType#index` when it has none) and op type. */
  node: string;
  op: string;
  /** Output name in the derived model of the cotangent of each differentiated input, by forward input name. */
  grads: { input: string; output: string }[];
}

/** The forward side of a trace: each differentiated node's float outputs, in forward order. */
export interface VjpTraceForward {
  node: string;
  op: string;
  inputs: readonly string[];
  /** The node's differentiable outputs (forward value names, exposed under the same names). */
  outputs: string[];
}

/** What {@link vjpModel} built: the bytes and the names of its inputs and outputs. */
export interface VjpModel {
  bytes: Uint8Array;
  /** The cotangent input's name. */
  cotangent: string;
  /** Gradient output name by differentiated input name. */
  grads: Record<string, string>;
  /** The differentiated forward output. */
  output: string;
  /** With {@link VjpOptions.trace}: the backward steps in the order computed (reverse topological). */
  trace?: VjpTraceStep[];
  /** With {@link VjpOptions.trace}: the differentiated forward nodes in forward order, their outputs exposed. */
  traceForward?: VjpTraceForward[];
}

const FLOAT = 'float32';

/** Constant values of the forward graph: initializers and `Constant` node outputs. */
function constantsOf(graph: FwdGraph): Map<string, TensorData> {
  const out = new Map(graph.initializers);
  for (const n of graph.nodes) {
    if (n.opType !== 'Constant') continue;
    const [[key, v] = []] = Object.entries(n.attrs);
    if (!v) continue;
    if ('t' in v) out.set(n.outputs[0]!, v.t);
    else if (key === 'value_int' && 'i' in v) out.set(n.outputs[0]!, i64([], [v.i]));
    else if (key === 'value_ints' && 'ints' in v) out.set(n.outputs[0]!, i64([v.ints.length], v.ints));
    else if (key === 'value_float' && 'f' in v) out.set(n.outputs[0]!, f32([], [v.f]));
    else if (key === 'value_floats' && 'floats' in v) out.set(n.outputs[0]!, f32([v.floats.length], v.floats));
  }
  return out;
}

/** Values that need a cotangent: float32, downstream of `wrt` and upstream of `output`. */
function differentiable(graph: FwdGraph, infos: ReadonlyMap<string, ValueInfo>, wrt: readonly string[], output: string): { need: Set<string>; stops: FwdNode[] } {
  const reach = new Set(wrt);
  const stops: FwdNode[] = [];
  for (const n of graph.nodes) {
    if (!n.inputs.some((i) => reach.has(i))) continue;
    let any = false;
    if (!ZERO_GRADIENT_OPS.has(n.opType))
      for (const o of n.outputs)
        if (o && infos.get(o)?.dtype === FLOAT) {
          reach.add(o);
          any = true;
        }
    if (!any) stops.push(n);
  }
  const upstream = new Set([output]);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k]!;
    if (n.outputs.some((o) => upstream.has(o))) for (const i of n.inputs) if (i) upstream.add(i);
  }
  return { need: new Set([...reach].filter((v) => upstream.has(v))), stops: stops.filter((n) => n.outputs.some((o) => upstream.has(o))) };
}

/** Sets the element types of the derived model's graph inputs (the builder declares float32). */
function retypeInputs(bytes: Uint8Array, types: ReadonlyMap<string, number>): Uint8Array {
  const m = ModelProto.decode(bytes) as unknown as { graph: { input: { name: string; type: { tensorType: { elemType: number } } }[] } };
  for (const i of m.graph.input) i.type.tensorType.elemType = types.get(i.name) ?? i.type.tensorType.elemType;
  return ModelProto.encode(m as never).finish();
}

/**
 * The VJP model of `model` (ModelProto bytes) with respect to the graph inputs `wrt`.
 * @throws VjpError naming the node, op, tensor or input that cannot be differentiated
 */
export async function vjpModel(model: Uint8Array, wrt: string | readonly string[], opts: VjpOptions = {}): Promise<VjpModel> {
  const file = opts.file ?? 'model';
  const graph = readModel(model, file);
  const wrts = typeof wrt === 'string' ? [wrt] : [...wrt];
  if (wrts.length === 0) throw new VjpError(`${file}: no input to differentiate with respect to`);
  for (const w of wrts) {
    const v = graph.inputs.find((i) => i.name === w);
    if (!v) throw new VjpError(`${file}: no graph input '${w}' (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`);
    if (v.elemType !== 1) throw new VjpError(`${file}: input '${w}' has ONNX element type ${v.elemType}; only float32 inputs are differentiated`);
  }
  const outVal = opts.output ? graph.outputs.find((o) => o.name === opts.output) : graph.outputs[0];
  if (!outVal) throw new VjpError(`${file}: no graph output '${opts.output}' (outputs: ${graph.outputs.map((o) => o.name).join(', ')})`);
  const output = outVal.name;
  const names = new Set([...graph.initializers.keys(), ...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)]);
  const cotangent = opts.cotangent ?? (names.has('v') ? 'cotangent' : 'v');
  if (names.has(cotangent)) throw new VjpError(`${file}: the cotangent name '${cotangent}' is already a value of the model; choose another`);

  const infos = await probeValues(model, graph, opts.probeDims);
  if (infos.get(output)?.dtype !== FLOAT) throw new VjpError(`${file}: output '${output}' is ${infos.get(output)?.dtype}; only float32 outputs are differentiated`);
  const { need, stops } = differentiable(graph, infos, wrts, output);
  if (!need.has(output)) {
    const at = stops.slice(0, 3).map((n) => `${n.opType} ${n.name}`);
    throw new VjpError(
      `${file}: output '${output}' does not depend differentiably on ${wrts.join(', ')}: every path passes through integer values or ops without a gradient${at.length ? ` (${at.join('; ')})` : ''}`,
    );
  }
  const active = graph.nodes.filter((n) => n.outputs.some((o) => need.has(o)));
  const missing = active.filter((n) => !VJP_RULES.has(n.opType));
  if (missing.length)
    throw new VjpError(`${file}: no VJP rule for ${missing.map((n) => `${n.opType} (node ${n.name})`).join(', ')} on the path from ${wrts.join(', ')} to ${output}`);

  const constants = constantsOf(graph);
  const prepared = new Map<FwdNode, unknown>();
  for (const n of active) {
    const prep = VJP_PREPARE.get(n.opType);
    if (prep) prepared.set(n, await prep(n, infos, constants));
  }

  // Keep the forward nodes whose values the backward reads (and the output, if asked for).
  const wanted = new Set<string>(active.flatMap((n) => [...n.inputs, ...n.outputs]));
  if (opts.keepOutput || opts.trace) wanted.add(output);
  const keep = new Set<FwdNode>();
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k]!;
    if (n.outputs.some((o) => wanted.has(o))) {
      keep.add(n);
      for (const i of n.inputs) wanted.add(i);
    }
  }

  const g = new GraphBuilder(`vjp(${file})`);
  for (const i of graph.inputs) g.input(i.name, i.dims);
  g.input(cotangent, outVal.dims);
  for (const [name, t] of graph.initializers) if (wanted.has(name)) g.constant(t, name);
  for (const n of graph.nodes) if (keep.has(n)) g.nodeOutputs(n.opType, n.inputs, n.attrs, n.outputs);

  let counter = 0;
  const fresh = (hint: string): string => {
    let s = `vjp/${hint}_${counter++}`;
    while (names.has(s)) s = `vjp/${hint}_${counter++}`;
    return s;
  };
  const contributions = new Map<string, string[]>([[output, [cotangent]]]);
  const total = (v: string): string | undefined => {
    const parts = contributions.get(v);
    if (!parts || parts.length === 0) return undefined;
    if (parts.length > 1) contributions.set(v, [g.node('Sum', parts)]);
    return contributions.get(v)![0];
  };
  const shapes = new Map<string, string>();
  const trace: VjpTraceStep[] = [];
  let traces = 0;
  /** Exposes cotangent `value` (shaped as forward value `like`) as an output; symbolic dims, as the probe's -1 has no name. */
  const traced = (value: string, like: string): string => {
    const out = `trace/${traces++}`;
    g.output(
      value,
      out,
      (infos.get(like)?.dims ?? []).map((_, i) => `${out}/${i}`),
    );
    return out;
  };
  for (let k = active.length - 1; k >= 0; k--) {
    const n = active[k]!;
    const gys = n.outputs.map((o) => (need.has(o) ? total(o) : undefined));
    if (gys.every((x) => x === undefined)) continue;
    const ctx = makeContext(g, n, infos, constants, need, shapes, fresh, prepared.get(n));
    const gxs = VJP_RULES.get(n.opType)!(ctx, gys);
    const step: VjpTraceStep = { node: n.name, op: n.opType, grads: [] };
    n.inputs.forEach((x, i) => {
      const gx = gxs[i];
      if (!x || gx === undefined || !need.has(x)) return;
      contributions.set(x, [...(contributions.get(x) ?? []), gx]);
      if (opts.trace) step.grads.push({ input: x, output: traced(gx, x) });
    });
    if (opts.trace && step.grads.length) trace.push(step);
  }
  const grads: Record<string, string> = {};
  for (const w of wrts) {
    const v = graph.inputs.find((i) => i.name === w)!;
    const gw = total(w) ?? g.node('Mul', [w, g.scalar(0)]);
    grads[w] = `grad_${w}`;
    g.output(gw, grads[w], v.dims);
  }
  const traceForward = active.map((n) => ({ node: n.name, op: n.opType, inputs: n.inputs, outputs: n.outputs.filter((o) => need.has(o)) }));
  if (opts.trace)
    for (const o of traceForward.flatMap((f) => f.outputs))
      if (o !== output || !opts.keepOutput)
        g.output(
          o,
          o,
          (infos.get(o)?.dims ?? []).map((_, i) => `${o}/${i}`),
        );
  if (opts.keepOutput) g.output(output, output, outVal.dims);
  const bytes = retypeInputs(g.toBytes(`VJP of ${file} with respect to ${wrts.join(', ')}`), new Map(graph.inputs.map((i) => [i.name, i.elemType])));
  return { bytes, cotangent, grads, output, ...(opts.trace ? { trace, traceForward } : {}) };
}
