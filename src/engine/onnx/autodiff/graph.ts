/**
 * An ONNX model read into plain records for differentiation: nodes with their attributes as the
 * builder's `AttrValue`s, initializers (and `Constant` node values) as `TensorData`, graph inputs
 * and outputs with element types and dims. What cannot be differentiated faithfully is refused
 * here, naming the tensor, node or opset: weights in external data files, control flow
 * (If/Loop/Scan and graph attributes), operator domains other than the default, opsets outside
 * 13…17 (the semantics the rules are written for: axes as inputs of Squeeze/Unsqueeze/ReduceSum,
 * single-axis Softmax), and tensor types other than float32 and int64 in initializers.
 */
import type { AttrValue, TensorData } from '../builder';
import { AttrType, DataType, ModelProto } from '../builder';

/** Lowest and highest ai.onnx opset whose operator semantics the VJP rules implement. */
export const MIN_OPSET = 13;
export const MAX_OPSET = 17;

/** Raised when a model cannot be differentiated; the message names the node, op or tensor. */
export class VjpError extends Error {
  override name = 'VjpError';
}

/** One node of the forward graph. `name` is the node's own name, or `opType#index` when it has none. */
export interface FwdNode {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** A graph input or output: name, ONNX element type and dims (a string for a symbolic one). */
export interface FwdValue {
  readonly name: string;
  readonly elemType: number;
  readonly dims: readonly (number | string)[];
}

/** A forward model as read by {@link readModel}. */
export interface FwdGraph {
  readonly nodes: readonly FwdNode[];
  readonly initializers: ReadonlyMap<string, TensorData>;
  readonly inputs: readonly FwdValue[];
  readonly outputs: readonly FwdValue[];
  readonly opset: number;
}

interface RawTensor {
  name?: string;
  dims?: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: number[];
  dataLocation?: number;
}
interface RawAttr {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: RawTensor;
  floats?: number[];
  ints?: number[];
}
interface RawNode {
  input?: string[];
  output?: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: RawAttr[];
}
interface RawValue {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } };
}
interface RawModel {
  graph?: { node?: RawNode[]; initializer?: RawTensor[]; input?: RawValue[]; output?: RawValue[] };
  opsetImport?: { domain?: string; version?: number }[];
}

const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan', 'SequenceMap']);
/** AttributeProto types GRAPH (5) and GRAPHS (10): subgraphs, which the walk cannot see into. */
const GRAPH_ATTRS = new Set([5, 10]);

/** A copy of `t` as builder TensorData (own aligned buffer), or a refusal naming `where`. */
export function tensorOf(t: RawTensor, where: string): TensorData {
  const dims = t.dims ?? [];
  if (t.dataLocation === 1) throw new VjpError(`${where}: tensor '${t.name}' is stored in an external data file; differentiation needs the weights inside the .onnx file`);
  const type = t.dataType;
  if (type !== DataType.FLOAT && type !== DataType.INT64)
    throw new VjpError(`${where}: tensor '${t.name}' has ONNX data type ${type}; only float32 (1) and int64 (7) constants are supported`);
  if (!t.rawData || t.rawData.length === 0) {
    const data = type === DataType.FLOAT ? (t.floatData ?? []) : (t.int64Data ?? []);
    return { type: type === DataType.FLOAT ? 'float32' : 'int64', dims, data };
  }
  const raw = Uint8Array.from(t.rawData);
  if (type === DataType.FLOAT) return { type: 'float32', dims, data: new Float32Array(raw.buffer) };
  return { type: 'int64', dims, data: Array.from(new BigInt64Array(raw.buffer), Number) };
}

function attrOf(a: RawAttr, where: string): AttrValue {
  switch (a.type) {
    case AttrType.FLOAT:
      return { f: a.f ?? 0 };
    case AttrType.INT:
      return { i: a.i ?? 0 };
    case AttrType.STRING:
      return { s: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case AttrType.TENSOR:
      return { t: tensorOf(a.t ?? {}, where) };
    case AttrType.FLOATS:
      return { floats: a.floats ?? [] };
    case AttrType.INTS:
      return { ints: a.ints ?? [] };
    default:
      throw new VjpError(`${where}: attribute '${a.name}' has AttributeProto type ${a.type}, which the VJP builder does not read`);
  }
}

const valueOf = (v: RawValue): FwdValue => ({
  name: v.name,
  elemType: v.type?.tensorType?.elemType ?? 0,
  dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam ?? d.dimValue ?? '?'),
});

/** Decodes ModelProto bytes into a {@link FwdGraph}, refusing what cannot be differentiated (see the module notes). */
export function readModel(bytes: Uint8Array, file = 'model'): FwdGraph {
  let raw: RawModel;
  try {
    raw = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true, defaults: false }) as RawModel;
  } catch (e) {
    throw new VjpError(`${file}: not an ONNX ModelProto (${(e as Error).message})`, { cause: e });
  }
  let opset = 0;
  for (const o of raw.opsetImport ?? []) {
    if (o.domain && o.domain !== 'ai.onnx') throw new VjpError(`${file}: imports operator domain '${o.domain}'; only the default ONNX domain can be differentiated`);
    opset = o.version ?? 0;
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) throw new VjpError(`${file}: opset ${opset}; the VJP rules implement opsets ${MIN_OPSET}–${MAX_OPSET} (export at opset 17)`);
  const graph = raw.graph ?? {};
  const initializers = new Map<string, TensorData>();
  for (const t of graph.initializer ?? []) initializers.set(t.name ?? '', tensorOf(t, `${file}: initializer`));
  const nodes: FwdNode[] = (graph.node ?? []).map((n, k) => {
    const name = n.name || `${n.opType}#${k}`;
    const where = `${file}: node ${name} (${n.opType})`;
    if (n.domain && n.domain !== 'ai.onnx') throw new VjpError(`${where} is in operator domain '${n.domain}'; only the default ONNX domain can be differentiated`);
    if (CONTROL_FLOW.has(n.opType)) throw new VjpError(`${where}: control flow (If/Loop/Scan) cannot be differentiated`);
    for (const a of n.attribute ?? []) if (GRAPH_ATTRS.has(a.type ?? 0)) throw new VjpError(`${where}: attribute '${a.name}' holds a subgraph, which cannot be differentiated`);
    const attrs = Object.fromEntries((n.attribute ?? []).map((a) => [a.name, attrOf(a, where)]));
    return { opType: n.opType, name, inputs: n.input ?? [], outputs: n.output ?? [], attrs };
  });
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name)).map(valueOf);
  return { nodes, initializers, inputs, outputs: (graph.output ?? []).map(valueOf), opset };
}
