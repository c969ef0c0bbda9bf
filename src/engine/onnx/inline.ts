/**
 * Inlining one ONNX model into a graph under construction: the update models splice the operator
 * lowerings (`lowerOperator`'s apply/adjoint/vjp bytes) into their own graphs, so a whole data step
 * is one model; the fused iteration graph splices every step model and the score network. The
 * bytes are decoded with the builder's own subset of onnx.proto.
 *
 * Initializers are shared by content: a model inlined several times into one graph (the score
 * network once per ODE step, once in Denoise and again in a finite-difference VJP, an operator's
 * mask once per Langevin step) keeps one copy of each weight tensor, so the graph is not
 * multiplied in size by the number of inlines.
 */
import { createHash } from 'node:crypto';
import type { AttrValue, GraphBuilder, TensorData } from './builder';
import { AttrType, DataType, ModelProto, ONNX_OPSET, OnnxBuildError } from './builder';

interface DecodedTensor {
  dims: number[];
  dataType: number;
  name: string;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: number[];
  dataLocation?: number;
}
interface DecodedAttr {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: DecodedTensor;
  floats: number[];
  ints: number[];
}
interface DecodedNode {
  input: string[];
  output: string[];
  opType: string;
  domain?: string;
  attribute: DecodedAttr[];
}
interface DecodedDim {
  dimValue?: number;
  dimParam?: string;
}
interface DecodedValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: DecodedDim[] } } };
}
interface DecodedGraph {
  node: DecodedNode[];
  initializer: DecodedTensor[];
  input: DecodedValueInfo[];
  output: DecodedValueInfo[];
}
interface DecodedModel {
  graph: DecodedGraph;
  opsetImport?: { domain?: string; version?: number }[];
}

const decode = (model: Uint8Array): DecodedModel => ModelProto.toObject(ModelProto.decode(model), { longs: Number, arrays: true, defaults: false }) as DecodedModel;

/** A graph input or output of a model: name, element type (DataType) and dims (a name for a symbolic one). */
export interface ModelValue {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

const valueOf = (v: DecodedValueInfo): ModelValue => ({
  name: v.name,
  elemType: v.type?.tensorType?.elemType ?? 0,
  dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam ?? d.dimValue ?? '?'),
});

/** The graph inputs and outputs of ModelProto bytes (initializers excluded from the inputs). */
export function modelSignature(model: Uint8Array): { inputs: ModelValue[]; outputs: ModelValue[]; opset: number } {
  const m = decode(model);
  const inits = new Set(m.graph.initializer.map((t) => t.name));
  const opset = (m.opsetImport ?? []).find((o) => !o.domain)?.version ?? 0;
  return { inputs: m.graph.input.filter((i) => !inits.has(i.name)).map(valueOf), outputs: m.graph.output.map(valueOf), opset };
}

function tensorData(t: DecodedTensor): TensorData {
  // A copy into an own, aligned buffer (Node decodes bytes as Buffer views into a shared pool).
  const dims = t.dims ?? [];
  if (t.dataLocation === 1)
    throw new OnnxBuildError(`inline: tensor '${t.name}' is stored in an external data file; only models with their weights inside the .onnx file can be inlined`);
  if (!t.rawData) {
    if (t.dataType === DataType.FLOAT) return { type: 'float32', dims, data: t.floatData ?? [] };
    if (t.dataType === DataType.INT64) return { type: 'int64', dims, data: t.int64Data ?? [] };
  }
  const raw = Uint8Array.from(t.rawData ?? []);
  if (t.dataType === DataType.FLOAT) return { type: 'float32', dims, data: new Float32Array(raw.buffer) };
  if (t.dataType === DataType.INT64) return { type: 'int64', dims, data: Array.from(new BigInt64Array(raw.buffer), Number) };
  throw new OnnxBuildError(`inline: tensor '${t.name}' has data type ${t.dataType}; only float32 and int64 are supported`);
}

/** Per graph under construction: content key of an inlined initializer → its name there. */
const sharedConstants = new WeakMap<GraphBuilder, Map<string, string>>();

/** A key equal for two tensors exactly when their type, dims and values are equal. */
function contentKey(t: TensorData): string {
  const values = t.type === 'float32' ? Float32Array.from(t.data) : Float64Array.from(t.data);
  const h = createHash('sha256')
    .update(`${t.type}[${t.dims.join(',')}]`)
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return h.digest('base64');
}

/** Adds `t` to `g` as `name`, or returns the name of an identical initializer an earlier inline added. */
function sharedConstant(g: GraphBuilder, t: TensorData, name: string): string {
  let known = sharedConstants.get(g);
  if (!known) sharedConstants.set(g, (known = new Map()));
  const k = contentKey(t);
  const have = known.get(k);
  if (have !== undefined) return have;
  g.constant(t, name);
  known.set(k, name);
  return name;
}

function attrValue(a: DecodedAttr): AttrValue {
  switch (a.type) {
    case AttrType.FLOAT:
      return { f: a.f ?? 0 };
    case AttrType.INT:
      return { i: a.i ?? 0 };
    case AttrType.STRING:
      return { s: new TextDecoder().decode(a.s) };
    case AttrType.TENSOR:
      return { t: tensorData(a.t!) };
    case AttrType.FLOATS:
      return { floats: a.floats };
    case AttrType.INTS:
      return { ints: a.ints };
    default:
      throw new OnnxBuildError(`inline: attribute '${a.name}' has unsupported type ${a.type}`);
  }
}

/**
 * Copies the nodes and initializers of `model` (one-output ModelProto bytes, as written by
 * `GraphBuilder`) into `g`, feeding its graph inputs from `inputs` (input name → value in `g`).
 * Every other value is renamed `prefix/name`, so a model may be inlined several times under
 * different prefixes; an initializer identical to one inlined before into `g` is not copied again
 * (see the module notes). Returns the name, in `g`, of the model's (first) output.
 */
export function inlineModel(g: GraphBuilder, model: Uint8Array, inputs: Readonly<Record<string, string>>, prefix: string): string {
  const outs = inlineModelOutputs(g, model, inputs, prefix);
  const first = Object.values(outs)[0];
  if (first === undefined) throw new OnnxBuildError(`inline ${prefix}: the model has no output`);
  return first;
}

/**
 * As {@link inlineModel}, for models with several outputs (e.g. an exported score network, or a
 * step model returning x̂₀ and ε̂): returns every graph output's name in `g`, by its name in `model`.
 * Only the default ONNX domain is accepted, at opset ≤ the builder's (ops keep their meaning there).
 */
export function inlineModelOutputs(g: GraphBuilder, model: Uint8Array, inputs: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const decoded = decode(model);
  for (const o of decoded.opsetImport ?? []) {
    if (o.domain) throw new OnnxBuildError(`inline ${prefix}: the model imports operator domain '${o.domain}'; only the default ONNX domain can be inlined`);
    if ((o.version ?? 0) > ONNX_OPSET)
      throw new OnnxBuildError(`inline ${prefix}: the model uses opset ${o.version}; at most ${ONNX_OPSET} can be inlined (export it at opset ${ONNX_OPSET})`);
  }
  const graph = decoded.graph;
  const inits = new Set(graph.initializer.map((t) => t.name));
  const rename = new Map<string, string>([['', '']]); // '' marks an omitted optional input
  for (const i of graph.input) {
    if (inits.has(i.name)) continue; // older exporters list initializers among the inputs
    const v = inputs[i.name];
    if (v === undefined) throw new OnnxBuildError(`inline ${prefix}: no value given for the model's input '${i.name}'`);
    rename.set(i.name, v);
  }
  const local = (n: string): string => {
    const r = rename.get(n);
    if (r !== undefined) return r;
    const fresh = `${prefix}/${n}`;
    rename.set(n, fresh);
    return fresh;
  };
  for (const t of graph.initializer) {
    rename.set(t.name, sharedConstant(g, tensorData(t), `${prefix}/${t.name}`));
  }
  // The builder emits nodes in topological order with one output each; keep that order.
  for (const n of graph.node) {
    if (n.domain) throw new OnnxBuildError(`inline ${prefix}: node ${n.opType} is in domain '${n.domain}'; only the default ONNX domain can be inlined`);
    const attrs = Object.fromEntries(n.attribute.map((a) => [a.name, attrValue(a)]));
    if (n.output.length === 1) g.node(n.opType, n.input.map(local), attrs, local(n.output[0]!));
    else g.nodeOutputs(n.opType, n.input.map(local), attrs, n.output.map(local));
  }
  return Object.fromEntries(graph.output.map((o) => [o.name, local(o.name)]));
}
