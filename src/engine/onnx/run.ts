/**
 * Running lowered ONNX graphs with onnxruntime-node: float32 engine Tensors in, one float32
 * Tensor out. Used by the equivalence tests now and by the iteration backend later (which will
 * keep sessions open and pick a GPU provider, as priors/onnxPrior.ts does for score models).
 */
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';

/** An open session over one lowered model. */
export interface OnnxModelSession {
  /** Runs the model on named float32 inputs and returns its first output. */
  run(inputs: Readonly<Record<string, Tensor>>): Promise<Tensor>;
  release(): Promise<void>;
}

/**
 * Opens `model` (ModelProto bytes) on the CPU execution provider.
 * @param model - bytes from {@link GraphBuilder.toBytes} or `lowerOperator`
 */
export async function openOnnxModel(model: Uint8Array): Promise<OnnxModelSession> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const output = session.outputNames[0]!;
  return {
    async run(inputs) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', t.data, [...t.shape]);
      const result = await session.run(feeds);
      const out = result[output]!;
      if (out.type !== 'float32') throw new TypeError(`onnx model: output '${output}' is ${out.type}, expected float32`);
      // Copy: the result must not alias memory ORT may reuse.
      return tensor([...out.dims], (out.data as Float32Array).slice());
    },
    release: () => session.release(),
  };
}

/** Opens `model` on CPU, runs it once on `inputs`, releases it and returns the first output. */
export async function runOnnxOnce(model: Uint8Array, inputs: Readonly<Record<string, Tensor>>): Promise<Tensor> {
  const s = await openOnnxModel(model);
  try {
    return await s.run(inputs);
  } finally {
    await s.release();
  }
}
