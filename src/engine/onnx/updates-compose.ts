/**
 * Inlining one ONNX model into a graph under construction: the update models splice the operator
 * lowerings (`lowerOperator`'s apply/adjoint/vjp bytes) into their own graphs, so a whole data step
 * is one model. `GraphBuilder` only writes models, so the bytes are decoded here with the subset
 * of onnx.proto that the builder itself writes (field numbers as in the ONNX specification).
 */
import { Root } from 'protobufjs/light.js';
import type { AttrValue, GraphBuilder, TensorData } from './builder';
import { OnnxBuildError } from './builder';

// Only the fields read back; protobufjs skips the others (opset, doc strings, types).
const schema = {
  nested: {
    onnx: {
      nested: {
        ModelProto: { fields: { graph: { type: 'GraphProto', id: 7 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 } } },
      },
    },
  },
};

const ModelProto = Root.fromJSON(schema).lookupType('onnx.ModelProto');

interface DecodedTensor { dims: number[]; dataType: number; name: string; rawData: Uint8Array }
interface DecodedAttr { name: string; type: number; f?: number; i?: number; s?: Uint8Array; t?: DecodedTensor; floats: number[]; ints: number[] }
interface DecodedNode { input: string[]; output: string[]; opType: string; attribute: DecodedAttr[] }
interface DecodedGraph { node: DecodedNode[]; initializer: DecodedTensor[]; input: { name: string }[]; output: { name: string }[] }

function tensorData(t: DecodedTensor): TensorData {
  // A copy into an own, aligned buffer (Node decodes bytes as Buffer views into a shared pool).
  const raw = Uint8Array.from(t.rawData);
  if (t.dataType === 1) return { type: 'float32', dims: t.dims, data: new Float32Array(raw.buffer) };
  if (t.dataType === 7) return { type: 'int64', dims: t.dims, data: Array.from(new BigInt64Array(raw.buffer), Number) };
  throw new OnnxBuildError(`inline: tensor '${t.name}' has data type ${t.dataType}; only float32 and int64 are supported`);
}

function attrValue(a: DecodedAttr): AttrValue {
  switch (a.type) {
    case 1: return { f: a.f ?? 0 };
    case 2: return { i: a.i ?? 0 };
    case 3: return { s: new TextDecoder().decode(a.s) };
    case 4: return { t: tensorData(a.t!) };
    case 6: return { floats: a.floats };
    case 7: return { ints: a.ints };
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
