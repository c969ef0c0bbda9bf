/**
 * A small typed builder for ONNX models (ModelProto), written in TypeScript so the engine can emit
 * graphs at run time without Python. It covers what lowering needs: graph inputs/outputs with
 * static or symbolic dimensions, float32/int64 initializers, and nodes with int/float/string/
 * tensor attributes. Encoding goes through protobufjs with the subset of onnx.proto declared
 * below (field numbers as in the ONNX specification).
 */
import { Root } from 'protobufjs/light.js';

/** Default opset of the ai.onnx domain: well supported by onnxruntime 1.30 on CPU and CUDA. */
export const ONNX_OPSET = 17;
/** IR version that goes with opset 17. */
const IR_VERSION = 8;

/** ONNX TensorProto.DataType codes used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
/** ONNX AttributeProto.AttributeType codes. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

// The subset of onnx.proto (proto2) that the builder writes; names are protobufjs' camelCase.
const schema = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
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
            // Read only (other exporters' typed fields); the builder writes raw_data.
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            dataLocation: { type: 'int32', id: 14 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TypeTensor', id: 1 } } },
        TypeTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
      },
    },
  },
};

/** The protobufjs type of the schema subset above; also reads back models this builder wrote. */
export const ModelProto = Root.fromJSON(schema).lookupType('onnx.ModelProto');

/** A dimension: a fixed size, or a name for a dimension fixed only at run time (e.g. the batch `N`). */
export type Dim = number | string;

/** Tensor data for initializers and tensor attributes: float32 or int64 values with their dims. */
export type TensorData =
  | { readonly type: 'float32'; readonly dims: readonly number[]; readonly data: ArrayLike<number> }
  | { readonly type: 'int64'; readonly dims: readonly number[]; readonly data: ArrayLike<number> };

/** A node attribute: exactly one of int, float, string, ints, floats or tensor. */
export type AttrValue =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly t: TensorData };

/** A float32 tensor (values are rounded from float64 if given so). */
export const f32 = (dims: readonly number[], data: ArrayLike<number>): TensorData => ({ type: 'float32', dims, data });
/** An int64 tensor (values must be safe integers). */
export const i64 = (dims: readonly number[], data: ArrayLike<number>): TensorData => ({ type: 'int64', dims, data });

/** Raised when a graph is built inconsistently (duplicate names, wrong data length, …). */
export class OnnxBuildError extends Error {
  override name = 'OnnxBuildError';
}

function tensorProto(name: string, t: TensorData): Record<string, unknown> {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new OnnxBuildError(`tensor ${name}: dims [${t.dims.join(', ')}] need ${n} values, got ${t.data.length}`);
  // raw_data is little-endian; Node's typed arrays are little-endian on every supported platform.
  const raw = t.type === 'float32' ? new Uint8Array(Float32Array.from(t.data).buffer) : new Uint8Array(BigInt64Array.from(Array.from(t.data, (v) => BigInt(v))).buffer);
  return { name, dims: [...t.dims], dataType: t.type === 'float32' ? DataType.FLOAT : DataType.INT64, rawData: raw };
}

function attributeProto(name: string, v: AttrValue): Record<string, unknown> {
  if ('i' in v) return { name, type: AttrType.INT, i: v.i };
  if ('f' in v) return { name, type: AttrType.FLOAT, f: v.f };
  if ('s' in v) return { name, type: AttrType.STRING, s: new TextEncoder().encode(v.s) };
  if ('ints' in v) return { name, type: AttrType.INTS, ints: [...v.ints] };
  if ('floats' in v) return { name, type: AttrType.FLOATS, floats: [...v.floats] };
  return { name, type: AttrType.TENSOR, t: tensorProto(name, v.t) };
}

const valueInfo = (name: string, dims: readonly Dim[]): Record<string, unknown> => ({
  name,
  type: {
    tensorType: {
      elemType: DataType.FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

/**
 * Builds one ONNX graph. Values are referred to by name; {@link GraphBuilder.node} returns the name
 * of the value it produces, so graphs read like expressions. Graph inputs and outputs are float32.
 */
export class GraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inits: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** @param name - graph name, shown by model viewers and in ORT errors */
  constructor(private readonly name: string) {}

  private fresh(prefix: string): string {
    let n = `${prefix}_${this.counter++}`;
    while (this.names.has(n)) n = `${prefix}_${this.counter++}`;
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new OnnxBuildError(`graph ${this.name}: value '${name}' is defined twice`);
    this.names.add(name);
    return name;
  }

  /** Declares a float32 graph input of the given dims and returns its name. */
  input(name: string, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), dims));
    return name;
  }

  /** Adds a constant tensor (initializer) and returns its name. */
  constant(t: TensorData, name?: string): string {
    const n = this.claim(name ?? this.fresh('const'));
    this.inits.push(tensorProto(n, t));
    return n;
  }

  /** A float32 scalar constant. */
  scalar(v: number): string {
    return this.constant(f32([], [v]));
  }

  /**
   * Adds a node `op(inputs…)` with attributes and returns the name of its (single) output.
   * @param out - output name (default: a fresh name)
   */
  node(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, out?: string): string {
    return this.nodeOutputs(op, inputs, attrs, [out ?? this.fresh(op.toLowerCase())])[0]!;
  }

  /**
   * Adds a node with several outputs (e.g. Split), named `outs` ('' for an omitted optional
   * output), and returns them.
   */
  nodeOutputs(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>>, outs: readonly string[]): string[] {
    const named = outs.map((o) => (o === '' ? '' : this.claim(o)));
    this.nodes.push({
      input: [...inputs],
      output: named,
      name: `${op}_${this.nodes.length}`,
      opType: op,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return named;
  }

  /** Declares value `value` a graph output named `name` (an Identity node renames it if needed). */
  output(value: string, name: string, dims: readonly Dim[]): void {
    const v = value === name ? value : this.node('Identity', [value], {}, name);
    this.outputs.push(valueInfo(v, dims));
  }

  /** The serialised ModelProto, ready for `InferenceSession.create(bytes)`. */
  toBytes(doc = ''): Uint8Array {
    if (this.outputs.length === 0) throw new OnnxBuildError(`graph ${this.name}: no outputs`);
    const model = {
      irVersion: IR_VERSION,
      producerName: 'lagrange-studio',
      producerVersion: '1',
      docString: doc,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    };
    const err = ModelProto.verify(model);
    if (err) throw new OnnxBuildError(`graph ${this.name}: ${err}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}
