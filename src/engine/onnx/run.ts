/**
 * Running one lowered ONNX model on the CPU provider and taking its first output: what the
 * operator and update equivalence tests need.
 */
import type { Tensor } from '../tensor/tensor';
import { openSession } from './session';

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
  const session = await openSession(model, ['cpu']);
  return {
    async run(inputs) {
      return Object.values(await session.run(inputs))[0]!;
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
