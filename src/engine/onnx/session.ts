/**
 * An open onnxruntime-node session over a lowered model, on the first execution provider of a
 * list that opens: float32 engine Tensors in, every output back as an engine Tensor.
 */
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../priors/onnxPrior';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';

/** A session: run on named inputs, get every output by name. */
export interface OnnxSession {
  provider: ExecutionProvider;
  run(inputs: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/**
 * Opens `bytes` (ModelProto) on the first provider in `providers` that accepts it.
 * @throws the last provider's error when none does
 */
export async function openSession(bytes: Uint8Array, providers: readonly ExecutionProvider[]): Promise<OnnxSession> {
  let last: unknown;
  for (const provider of providers) {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: [provider], logSeverityLevel: 3 });
    } catch (e) {
      last = e;
      continue;
    }
    return {
      provider,
      async run(inputs) {
        const feeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', t.data, [...t.shape]);
        const result = await session.run(feeds);
        const outs: Record<string, Tensor> = {};
        for (const [name, v] of Object.entries(result)) {
          if (v.type !== 'float32') throw new TypeError(`onnx model: output '${name}' is ${v.type}, expected float32`);
          // Copied: ORT may reuse the output buffer on the next run, and the runtime keeps values.
          outs[name] = tensor([...v.dims], (v.data as Float32Array).slice());
        }
        return outs;
      },
      release: () => session.release(),
    };
  }
  throw last instanceof Error ? last : new Error(String(last));
}
