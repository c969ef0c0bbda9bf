/**
 * Shapes and element types of every value of a forward graph, found by running it. ONNX models
 * carry little shape information (exporters leave most intermediate value_info out) and symbolic
 * dimensions make static inference a partial evaluator of the integer "shape" subgraphs; ONNX
 * Runtime already is one. So the model is run twice on the CPU provider with every node output
 * made a graph output: once with each symbolic dimension at its probe size, once at twice that.
 * A dimension that differs between the two runs is dynamic (-1); the rules then read it at run
 * time through `Shape`, and decide broadcasting from the static ones.
 */
import * as ort from 'onnxruntime-node';
import { ModelProto } from '../builder';
import type { FwdGraph } from './graph';
import { VjpError } from './graph';

/** Element type (ORT's names: 'float32', 'int64', 'bool', …) and dims (-1: depends on a symbolic input dimension). */
export interface ValueInfo {
  readonly dtype: string;
  readonly dims: readonly number[];
}

const ORT_TYPE: Record<number, ort.Tensor.Type> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };

function feedsAt(graph: FwdGraph, symbolic: (name: string) => number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of graph.inputs) {
    const type = ORT_TYPE[v.elemType];
    if (!type) throw new VjpError(`graph input '${v.name}' has ONNX element type ${v.elemType}; probing supports float32, float64, int32, int64 and bool inputs`);
    const dims = v.dims.map((d) => (typeof d === 'number' ? d : symbolic(d)));
    const n = dims.reduce((a, b) => a * b, 1);
    const data =
      type === 'float32'
        ? new Float32Array(n)
        : type === 'float64'
          ? new Float64Array(n)
          : type === 'int64'
            ? new BigInt64Array(n)
            : type === 'int32'
              ? new Int32Array(n)
              : new Uint8Array(n);
    feeds[v.name] = new ort.Tensor(type, data, dims);
  }
  return feeds;
}

async function runAll(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Map<string, ValueInfo>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const result = await session.run(feeds);
    const out = new Map<string, ValueInfo>();
    for (const [name, t] of Object.entries(result)) out.set(name, { dtype: t.type, dims: [...t.dims] });
    for (const [name, t] of Object.entries(feeds)) out.set(name, { dtype: t.type, dims: [...t.dims] });
    return out;
  } finally {
    await session.release();
  }
}

/**
 * {@link ValueInfo} of every input, initializer and node output of `graph` (the model `bytes`).
 * @param probeDims - size of each symbolic input dimension in the first run (default 2; the second run doubles it)
 */
export async function probeValues(bytes: Uint8Array, graph: FwdGraph, probeDims: Readonly<Record<string, number>> = {}): Promise<Map<string, ValueInfo>> {
  const model = ModelProto.decode(bytes) as unknown as { graph: { output: { name: string }[] } };
  const seen = new Set(model.graph.output.map((o) => o.name));
  for (const n of graph.nodes)
    for (const o of n.outputs)
      if (o && !seen.has(o)) {
        seen.add(o);
        model.graph.output.push({ name: o }); // untyped: ORT infers the type of an extra output
      }
  const probe = ModelProto.encode(model as never).finish();
  const size = (name: string): number => probeDims[name] ?? 2;
  const hasSymbolic = graph.inputs.some((v) => v.dims.some((d) => typeof d !== 'number'));
  let first: Map<string, ValueInfo>, second: Map<string, ValueInfo>;
  try {
    first = await runAll(probe, feedsAt(graph, size));
    second = hasSymbolic
      ? await runAll(
          probe,
          feedsAt(graph, (n) => 2 * size(n)),
        )
      : first;
  } catch (e) {
    if (e instanceof VjpError) throw e;
    const hint = hasSymbolic
      ? ` with symbolic dimensions at ${JSON.stringify(Object.fromEntries(graph.inputs.flatMap((v) => v.dims.filter((d) => typeof d === 'string').map((d) => [d, size(d)]))))} (pass probeDims for others)`
      : '';
    throw new VjpError(`the forward model did not run on zero inputs${hint}: ${(e as Error).message}`, { cause: e });
  }
  const infos = new Map<string, ValueInfo>();
  for (const [name, a] of first) {
    const b = second.get(name)!;
    infos.set(name, { dtype: a.dtype, dims: a.dims.length === b.dims.length ? a.dims.map((d, i) => (d === b.dims[i] ? d : -1)) : a.dims.map(() => -1) });
  }
  for (const [name, t] of graph.initializers) infos.set(name, { dtype: t.type, dims: t.dims });
  return infos;
}
