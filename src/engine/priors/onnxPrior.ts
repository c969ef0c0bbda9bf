/**
 * ONNX score models through onnxruntime-node. A model folder holds `model.onnx` and its card
 * (`model.json`). Execution providers are tried in the order CUDA → DirectML → WebGPU → CPU (or the
 * one the user forces); the chosen one is reported in `provider`, the failures in `attempts`.
 * x₀- and v-parameterised networks are mapped onto ε-prediction, so every solver sees one contract;
 * learn_sigma networks (card `outputs.learnedVariance`) also give their variance channels
 * (`predictEpsVariance`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor/tensor';
import { batchOf, shapeStr, tensor } from '../tensor/tensor';
import type { ModelCard } from './modelCard';
import { cardOutputChannels, cardSchedule, readModelCard } from './modelCard';
import type { ScoreModel } from './types';

/** Execution providers, in the order `auto` tries them. */
export const PROVIDER_ORDER = ['cuda', 'dml', 'webgpu', 'cpu'] as const;
export type ExecutionProvider = (typeof PROVIDER_ORDER)[number];

/** Raised when a model cannot be loaded or does not match its card; names the file. */
export class ModelError extends Error {
  override name = 'ModelError';
}

/** One input or output of an ONNX graph. */
export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | string)[];
}

function tensorInfo(m: ort.InferenceSession.ValueMetadata): TensorInfo {
  return m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
}

/** What happened when a provider was tried. */
export interface ProviderAttempt {
  provider: ExecutionProvider;
  error: string;
}

/** An ONNX-backed score model, with its card and how its provider was chosen. */
export interface OnnxScoreModel extends ScoreModel {
  readonly card: ModelCard;
  readonly attempts: readonly ProviderAttempt[];
  /** The ONNX graph's inputs and outputs: name, element type and shape (symbolic dims as names). */
  readonly io: { inputs: TensorInfo[]; outputs: TensorInfo[] };
  /** Path of the ONNX file (the fused iteration backend inlines the network from it). */
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Whether a Vulkan loader (libvulkan.so.1) is on this Linux machine's library paths. WebGPU on
 * Linux runs through Vulkan: without the loader, creating a WebGPU session only prints Dawn's
 * two-line "Couldn't load Vulkan" warning on stderr and fails, on every run.
 */
export function hasVulkanLoader(env: NodeJS.ProcessEnv = process.env): boolean {
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), `/usr/lib/${triplet}`, `/lib/${triplet}`, '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/**
 * Why a provider cannot be used here without trying it (avoids native error spam), or undefined.
 * WebGPU on Linux is probed only where a Vulkan loader exists, or when LAGRANGE_WEBGPU=probe asks.
 */
export function providerUnavailable(p: ExecutionProvider, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const listed = ort.listSupportedBackends().map((b) => b.name as string);
  if (p === 'dml' && process.platform !== 'win32') return `DirectML runs on Windows only (this is ${process.platform})`;
  if (!listed.includes(p)) return `not supported by this onnxruntime-node build on ${process.platform}`;
  if (p === 'webgpu' && process.platform === 'linux' && env.LAGRANGE_WEBGPU !== 'probe' && !hasVulkanLoader(env)) {
    return 'no Vulkan loader (libvulkan.so.1) on this machine, which WebGPU on Linux needs (install libvulkan1 and a Vulkan driver; LAGRANGE_WEBGPU=probe tries anyway)';
  }
  if (p === 'cuda') {
    const bin = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    if (!existsSync(join(bin, 'libonnxruntime_providers_cuda.so'))) {
      return 'CUDA add-on not installed (where the network allows: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install)';
    }
  }
  return undefined;
}

/**
 * Opens an ONNX file on the first of `providers` that loads it, recording why the others did not.
 * @throws ModelError naming the file and every provider's failure when none loads it
 */
export async function openSession(
  file: string,
  providers: readonly ExecutionProvider[],
): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider; attempts: ProviderAttempt[] }> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    const why = providerUnavailable(provider);
    if (why) {
      attempts.push({ provider, error: why });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(file, { executionProviders: [provider], logSeverityLevel: 3 });
      return { session, provider, attempts };
    } catch (e) {
      attempts.push({ provider, error: (e as Error).message.split('\n')[0]! });
    }
  }
  throw new ModelError(`${file}: no execution provider could load it: ${attempts.map((a) => `${a.provider}: ${a.error}`).join('; ')}`);
}

/** Options of {@link loadOnnxPrior}. */
export interface LoadOnnxOptions {
  /** Force one provider (or an order); default: CUDA → DirectML → WebGPU → CPU. */
  providers?: readonly ExecutionProvider[];
}

/**
 * Why a prediction output of per-sample dims `dims` (C′, H, W; symbolic dims as names, which
 * match anything) breaks `card`'s promise, or undefined. The promise is C×H×W, or 2C×H×W for a
 * card that declares `outputs.learnedVariance`; a wider output is not silently cut to its first C
 * channels, because only the card can say that the extra channels are a variance.
 * @param cardFile - the card's path, named in the message
 */
export function outputShapeProblem(card: ModelCard, cardFile: string, dims: readonly (number | string)[]): string | undefined {
  const want = [cardOutputChannels(card), card.image.height, card.image.width];
  if (dims.length === want.length && dims.every((d, i) => typeof d !== 'number' || d === want[i])) return undefined;
  const c = card.image.channels;
  const hint =
    dims[0] === 2 * c && !card.outputs.learnedVariance
      ? `; if the extra ${c} channel(s) are a learned variance (ADM learn_sigma), declare outputs.learnedVariance: true in the card`
      : dims[0] === c && card.outputs.learnedVariance
        ? '; the card declares outputs.learnedVariance (2C channels), which this network does not emit'
        : '';
  return `output '${card.outputs.prediction}' is N×${dims.join('×')}, but ${cardFile} promises N×${want.join('×')} (image ${c}×${want[1]}×${want[2]}${card.outputs.learnedVariance ? ' with learned variance' : ''})${hint}`;
}

/**
 * Loads the score model in `dir` (model.json + model.onnx), checks the card's tensor names and
 * the prediction's shape against the graph, and returns an ε-predicting {@link ScoreModel}. The
 * shape is read from the graph's declared output; where that is symbolic, one forward of a zero
 * image at the middle timestep shows it (so no run starts on a network its card misdescribes).
 * @throws ModelError naming the file and what does not match
 */
export async function loadOnnxPrior(dir: string, opts: LoadOnnxOptions = {}): Promise<OnnxScoreModel> {
  const card = readModelCard(dir);
  const cardFile = join(dir, 'model.json');
  const file = join(dir, card.files.model);
  if (!existsSync(file)) throw new ModelError(`${file}: missing (named by ${cardFile} files.model)`);
  const { session, provider, attempts } = await openSession(file, opts.providers ?? PROVIDER_ORDER);
  try {
    for (const [role, name] of Object.entries(card.inputs)) {
      if (!session.inputNames.includes(name)) {
        throw new ModelError(`${cardFile}: inputs.${role} = '${name}' is not an input of ${file} (its inputs: ${session.inputNames.join(', ')})`);
      }
    }
    const meta = session.outputMetadata.find((m) => m.name === card.outputs.prediction);
    if (!meta) {
      throw new ModelError(`${cardFile}: outputs.prediction = '${card.outputs.prediction}' is not an output of ${file} (its outputs: ${session.outputNames.join(', ')})`);
    }
    const declared = meta.isTensor && meta.shape.length > 0 ? meta.shape.slice(1) : undefined;
    const why = declared && outputShapeProblem(card, cardFile, declared);
    if (why) throw new ModelError(`${file}: ${why}`);
    const model = scoreModel(session, card, cardFile, file, provider, attempts);
    if (!declared || declared.some((d) => typeof d !== 'number')) {
      const { channels: c, height: h, width: w } = card.image;
      await model.predictEps(tensor([1, c, h, w]), Math.floor(model.schedule.T / 2));
    }
    return model;
  } catch (e) {
    await session.release();
    throw e;
  }
}

function scoreModel(session: ort.InferenceSession, card: ModelCard, cardFile: string, file: string, provider: ExecutionProvider, attempts: ProviderAttempt[]): OnnxScoreModel {
  const { channels: c, height: h, width: w } = card.image;
  const shape = [c, h, w];
  const schedule = cardSchedule(card);
  const who = `model ${card.name}`;

  const timesteps = (t: number, n: number): ort.Tensor => {
    const v = t * card.timestep.scale;
    if (card.timestep.dtype === 'float32') return new ort.Tensor('float32', new Float32Array(n).fill(v), [n]);
    // Integer-timestep networks get the nearest step (continuous-time callers pass fractions).
    const k = Math.round(v);
    return card.timestep.dtype === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(k)), [n]) : new ort.Tensor('int32', new Int32Array(n).fill(k), [n]);
  };

  /** v of the evaluation that returned each ε̂ (taken once by {@link predictEpsVariance}). */
  const variances = new WeakMap<Tensor, Tensor>();
  /**
   * ε̂ and v of one evaluation. Through `this.predictEps`, not the closure's: the runtime counts
   * NFE by wrapping `predictEps` in a copy of this object, and this call must be counted too.
   */
  async function predictEpsVariance(this: ScoreModel, xt: Tensor, t: number): Promise<{ eps: Tensor; v: Tensor }> {
    const eps = await this.predictEps(xt, t);
    const v = variances.get(eps);
    if (!v) throw new ModelError(`${who}: predictEpsVariance: the ε̂ that predictEps returned carries no variance (a wrapper around ${file} replaced the tensor)`);
    variances.delete(eps);
    return { eps, v };
  }

  return {
    id: card.name,
    shape,
    schedule,
    provider: `onnx:${provider}`,
    card,
    attempts,
    file,
    io: { inputs: session.inputMetadata.map(tensorInfo), outputs: session.outputMetadata.map(tensorInfo) },
    async predictEps(xt: Tensor, t: number): Promise<Tensor> {
      const n = batchOf(xt, shape, who, 'x_t');
      const feeds = {
        [card.inputs.x]: new ort.Tensor('float32', xt.data, [n, c, h, w]),
        [card.inputs.t]: timesteps(t, n),
      };
      const result = await session.run(feeds);
      const out = result[card.outputs.prediction]!;
      const dims = out.dims;
      const why =
        dims.length === 4 && dims[0] === n
          ? outputShapeProblem(card, cardFile, dims.slice(1))
          : `output '${card.outputs.prediction}' is ${shapeStr(dims)} for a batch of ${n}, expected ${n}×${cardOutputChannels(card)}×${h}×${w}`;
      if (why) throw new ModelError(`${file}: ${why}`);
      const data = out.data as Float32Array;
      const pred = tensor([n, c, h, w]);
      // With learned variance the first C of the 2C channels are the prediction, the next C are v.
      const per = c * h * w,
        perOut = dims[1]! * h * w;
      for (let s = 0; s < n; s++) pred.data.set(data.subarray(s * perOut, s * perOut + per), s * per);
      const eps = toEps(card.parameterization, pred, xt, schedule.alphaBarAt(t));
      if (card.outputs.learnedVariance) {
        const v = tensor([n, c, h, w]);
        for (let s = 0; s < n; s++) v.data.set(data.subarray(s * perOut + per, (s + 1) * perOut), s * per);
        variances.set(eps, v);
      }
      return eps;
    },
    ...(card.outputs.learnedVariance ? { predictEpsVariance } : {}),
    release: () => session.release(),
  };
}

/**
 * Maps a network prediction onto ε: x₀ → ε = (x_t − √ᾱ x₀)/√(1−ᾱ);  v → ε = √ᾱ v + √(1−ᾱ) x_t
 * (from v = √ᾱ ε − √(1−ᾱ) x₀ and x_t = √ᾱ x₀ + √(1−ᾱ) ε).
 */
export function toEps(param: 'eps' | 'x0' | 'v', pred: Tensor, xt: Tensor, alphaBar: number): Tensor {
  if (param === 'eps') return pred;
  const a = Math.sqrt(alphaBar),
    b = Math.sqrt(1 - alphaBar);
  const out = tensor(pred.shape);
  for (let i = 0; i < out.data.length; i++) {
    out.data[i] = param === 'x0' ? (xt.data[i]! - a * pred.data[i]!) / b : a * pred.data[i]! + b * xt.data[i]!;
  }
  return out;
}
