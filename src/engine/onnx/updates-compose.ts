/**
 * Inlining one ONNX model into a graph under construction: the update models splice the operator
 * lowerings (`lowerOperator`'s apply/adjoint/vjp bytes) into their own graphs, so a whole data step
 * is one model. The bytes are decoded with the builder's own subset of onnx.proto.
 */
import type { AttrValue, GraphBuilder, TensorData } from './builder';
import { AttrType, DataType, ModelProto, OnnxBuildError } from './builder';

interface DecodedTensor { dims: number[]; dataType: number; name: string; rawData: Uint8Array }
interface DecodedAttr { name: string; type: number; f?: number; i?: number; s?: Uint8Array; t?: DecodedTensor; floats: number[]; ints: number[] }
interface DecodedNode { input: string[]; output: string[]; opType: string; attribute: DecodedAttr[] }
interface DecodedGraph { node: DecodedNode[]; initializer: DecodedTensor[]; input: { name: string }[]; output: { name: string }[] }

function tensorData(t: DecodedTensor): TensorData {
  // A copy into an own, aligned buffer (Node decodes bytes as Buffer views into a shared pool).
  const raw = Uint8Array.from(t.rawData);
  if (t.dataType === DataType.FLOAT) return { type: 'float32', dims: t.dims, data: new Float32Array(raw.buffer) };
  if (t.dataType === DataType.INT64) return { type: 'int64', dims: t.dims, data: Array.from(new BigInt64Array(raw.buffer), Number) };
  throw new OnnxBuildError(`inline: tensor '${t.name}' has data type ${t.dataType}; only float32 and int64 are supported`);
}

function attrValue(a: DecodedAttr): AttrValue {
  switch (a.type) {
    case AttrType.FLOAT: return { f: a.f ?? 0 };
    case AttrType.INT: return { i: a.i ?? 0 };
    case AttrType.STRING: return { s: new TextDecoder().decode(a.s) };
    case AttrType.TENSOR: return { t: tensorData(a.t!) };
    case AttrType.FLOATS: return { floats: a.floats };
    case AttrType.INTS: return { ints: a.ints };
    default: throw new OnnxBuildError(`inline: attribute '${a.name}' has unsupported type ${a.type}`);
  }
}

/**
 * Copies the nodes and initializers of `model` (one-output ModelProto bytes, as written by
 * `GraphBuilder`) into `g`, feeding its graph inputs from `inputs` (input name → value in `g`).
 * Every other value is renamed `prefix/name`, so a model may be inlined several times under
 * different prefixes. Returns the name, in `g`, of the model's (first) output.
 */
export function inlineModel(g: GraphBuilder, model: Uint8Array, inputs: Readonly<Record<string, string>>, prefix: string): string {
  const decoded = ModelProto.toObject(ModelProto.decode(model), { longs: Number, arrays: true, defaults: false }) as { graph: DecodedGraph };
  const graph = decoded.graph;
  const rename = new Map<string, string>([['', '']]); // '' marks an omitted optional input
  for (const i of graph.input) {
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
  for (const t of graph.initializer) g.constant(tensorData(t), local(t.name));
  // The builder emits nodes in topological order with one output each; keep that order.
  for (const n of graph.node) {
    if (n.output.length !== 1) throw new OnnxBuildError(`inline ${prefix}: ${n.opType} has ${n.output.length} outputs; only single-output nodes are supported`);
    const attrs = Object.fromEntries(n.attribute.map((a) => [a.name, attrValue(a)]));
    g.node(n.opType, n.input.map(local), attrs, local(n.output[0]!));
  }
  const out = graph.output[0];
  if (!out) throw new OnnxBuildError(`inline ${prefix}: the model has no output`);
  return local(out.name);
}
