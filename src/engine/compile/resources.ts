/**
 * Evaluates the nodes that do not change across iterations: images, operators, the measurement,
 * the score model and the schedule. Runs once per compile; the ONNX model is loaded here.
 */
import type { z } from 'zod';
import { latentScoreModel, nodeKind, operatorTask, schedule as scheduleKind, scoreModel } from '../../nodes/index';
import type { NodeKind } from '../../nodes/index';
import { nonFiniteProblem } from '../io/finite';
import { loadImage } from '../io/prepare';
import type { MeasurementValue } from '../kernels/updates';
import type { LpipsNetwork } from '../metrics/lpips';
import { lpipsNetwork, lpipsShapeProblem } from '../metrics/lpips';
import { gaussianFromImages } from '../priors/diagonalGaussian';
import { gaussianMixturePrior } from '../priors/gaussianMixture';
import { resolveModelDir } from '../priors/catalog';
import { readModelCard } from '../priors/modelCard';
import { readLatentBlock, readLatentFolder, shapeOfDims } from '../priors/latentCard';
import { latentModelDir, loadLatentPrior } from '../priors/latentPrior';
import { latentNet } from '../runtime/latentExecutors';
import { loadOnnxPrior } from '../priors/onnxPrior';
import { withSymmetricVjp } from '../priors/symmetricVjp';
import { withExactVjp } from '../onnx/autodiff/priorVjp';
import type { ExecutionProvider } from '../priors/onnxPrior';
import type { ScoreModel } from '../priors/types';
import { isOnnxOperator } from '../operators/onnx/spec';
import type { ForwardModel } from '../operators/types';
import { readMeasurement, simulate } from '../simulate';
import type { Shape, Tensor } from '../tensor/tensor';
import { sizeOf } from '../tensor/tensor';
import type { GraphNode } from '../graph/format';
import type { OperatorDescriptor, Value } from './plan';
import type { ScheduleParams } from './schedule';
import { resolveSchedule } from './schedule';

/** Raised when a graph cannot be compiled; names the node. */
export class CompileError extends Error {
  override name = 'CompileError';
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

const who = (n: GraphNode): string => `node "${n.id}" (${n.kind})`;

/** Parameters of a node with its kind's defaults filled in. */
export function paramsOf(n: GraphNode): Record<string, unknown> {
  const parsed = nodeKind(n.kind)!.params.safeParse(n.params);
  if (!parsed.success) throw new CompileError(`${who(n)}: invalid parameters`, n.id);
  return parsed.data;
}

/** A node's parameters typed by its kind's declaration (defaults filled in); the node must be of that kind. */
export function typedParams<K extends NodeKind>(n: GraphNode, kind: K): z.output<K['params']> {
  const parsed = kind.params.safeParse(n.params);
  if (!parsed.success) throw new CompileError(`${who(n)}: invalid parameters`, n.id);
  return parsed.data as z.output<K['params']>;
}

/** Inputs of a static node, already evaluated. */
export type StaticInputs = (port: string) => Value | undefined;

/**
 * The folder of a ScoreModel node's ONNX model, or undefined for analytic priors. A `bundled`
 * model is looked up by name like everywhere else (bundled first, then the user's folder).
 */
function modelDir(n: GraphNode): string | undefined {
  const p = paramsOf(n);
  if (p.source === 'gaussian' || p.source === 'gmm' || !p.model) return undefined;
  return p.source === 'bundled' ? wrapSync(n, () => resolveModelDir(p.model as string)) : (p.model as string);
}

/**
 * The image shape C×H×W a learned prior works on (from its model card, without loading the
 * network), or undefined for analytic priors, which take their shape from the measurement.
 */
export function priorImageShape(n: GraphNode): Shape | undefined {
  const dir = modelDir(n);
  if (!dir) return undefined;
  const card = wrapSync(n, () => readModelCard(dir));
  // A latent prior's card describes latents, not images: a ScoreModel would take them for pixels.
  const latent = wrapSync(n, () => readLatentBlock(dir));
  if (latent) {
    throw new CompileError(
      `${who(n)}: ${dir} is a latent prior (its model.json has a latent block: autoencoder ${latent.autoencoder.id}, latents ${card.image.channels}×${card.image.height}×${card.image.width} of ${shapeOfDims(latent.image).join('×')} images); ` +
        `use it in a LatentScoreModel node with an Encoder/Decoder (e.g. the latent-ddiff or latent-daps preset), not in a ScoreModel`,
      n.id,
    );
  }
  return [card.image.channels, card.image.height, card.image.width];
}

/** The image shape C×H×W behind a LatentScoreModel node's latents (its card's latent block), without loading a network. */
export function latentImageShape(n: GraphNode): Shape {
  return wrapSync(n, () => shapeOfDims(readLatentFolder(latentModelDir(paramsOf(n))).prior.block.image));
}

/**
 * The latent prior of a LatentScoreModel node: a score model over the autoencoder's latents (its
 * shape is the latent C×H×W), so Denoise, ZUpdate and the PF-ODE run on latents unchanged. Its
 * autoencoder's images must have the measurement's shape `imageShape`.
 */
export async function evalLatentPrior(n: GraphNode, imageShape: Shape): Promise<ScoreModel> {
  const p = typedParams(n, latentScoreModel);
  const dir = wrapSync(n, () => latentModelDir(p));
  const images = latentImageShape(n);
  if (images.length !== imageShape.length || images.some((v, i) => v !== imageShape[i]))
    throw new CompileError(
      `${who(n)}: the autoencoder of ${dir} decodes ${images.join('×')} images, but the measurement operator takes ${imageShape.join('×')} images; simulate at its size (leave out --size)`,
      n.id,
    );
  return await wrap(n, () => loadLatentPrior(dir, { vjp: p.vjp, ...(p.provider === 'auto' ? {} : { providers: [p.provider] }) }));
}

/**
 * Evaluates one static node other than ScoreModel/Schedule (which need the image shape): images,
 * operators, the measurement, and an Encoder or Decoder not downstream of a State. `fit`
 * is the learned prior's image shape: images follow its channels, and its size unless set.
 */
export async function evalStatic(n: GraphNode, input: StaticInputs, seed: number, fit?: Shape, warn?: (message: string) => void): Promise<Record<string, Value>> {
  const p = paramsOf(n);
  const task = operatorTask(n.kind);
  if (task) {
    const overrides = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
    return { operator: { kind: 'operator', task, params: overrides } satisfies OperatorDescriptor };
  }
  switch (n.kind) {
    case 'ImageInput': {
      const image = await wrap(n, () => loadImage(p.source as string, (p.size as number | undefined) ?? fit?.[1], fit?.[0], warn && ((m) => warn(`${who(n)}: ${m}`))));
      return { image: finite(n, image, `image ${p.source as string}`) };
    }
    case 'Simulate': {
      const op = input('operator') as OperatorDescriptor;
      const image = finite(n, input('image') as Tensor, 'input image');
      const m = await wrap(n, async () =>
        simulate({ task: op.task, image, params: op.params, seed: (p.seed as number | undefined) ?? seed, noise: { kind: 'gaussian', sigma: p.sigma as number } }),
      );
      operatorNotes(n, m.op, warn);
      // Finite x can still give a non-finite y (float32 overflow on values far outside [−1, 1]).
      return { measurement: { op: m.op, y: finite(n, m.y, `simulated y = ${op.task}(x) + noise`), sigmaY: p.sigma as number, x: image } satisfies MeasurementValue };
    }
    case 'MeasurementInput': {
      const m = await wrap(n, async () => readMeasurement(p.path as string));
      operatorNotes(n, m.op, warn);
      if (m.record.noise.kind !== 'gaussian') throw new CompileError(`${who(n)}: ${p.path as string} has Poisson noise; solvers need a Gaussian σ_y for now`, n.id);
      return { measurement: { op: m.op, y: m.y, sigmaY: m.record.noise.sigma, ...(m.x ? { x: m.x } : {}) } satisfies MeasurementValue };
    }
    case 'Encoder':
    case 'Decoder': {
      // Before the loop (e.g. a State's init from the encoded image): once, with the loop's cached network.
      const role = n.kind === 'Encoder' ? 'encoder' : 'decoder';
      const x = input(role === 'encoder' ? 'image' : 'z') as Tensor;
      const net = await wrap(n, () => latentNet(p, role));
      const out = await wrap(n, () => net.run(x));
      if (role === 'encoder') return { z: out };
      const v = input('cotangent') as Tensor | undefined;
      return { image: out, ...(v ? { grad: await wrap(n, () => net.vjp!(x, v)) } : {}) };
    }
    default:
      throw new CompileError(`${who(n)} has no static value`, n.id);
  }
}

/** What loading an ONNX operator folder decided (adjoint test, where the VJP comes from), as run notes. */
function operatorNotes(n: GraphNode, op: ForwardModel, warn?: (message: string) => void): void {
  if (warn && isOnnxOperator(op)) warn(`${who(n)}: operator ${op.card.name} (${op.dir}): ${op.notes.join('; ')}`);
}

/** Builds the score model of a ScoreModel node for images of per-sample shape `shape`. */
export async function evalPrior(n: GraphNode, shape: Shape | undefined): Promise<ScoreModel> {
  const p = paramsOf(n);
  const source = p.source as string;
  if (source === 'gaussian' || source === 'gmm') {
    if (!shape) throw new CompileError(`${who(n)}: an analytic prior needs the image size, which comes from a measurement; connect one`, n.id);
    if (source === 'gaussian' && (p.meanImage !== undefined || p.stdImage !== undefined)) {
      const images = { meanImage: p.meanImage as string | undefined, stdImage: p.stdImage as string | undefined };
      return await wrap(n, () => gaussianFromImages({ shape, mean: p.mean as number, std: p.std as number, ...images }));
    }
    const d = sizeOf(shape);
    const comps = source === 'gaussian' ? [{ weight: 1, mean: p.mean as number, std: p.std as number }] : (p.components as { weight: number; mean: number; std: number }[]);
    return gaussianMixturePrior({
      id: source,
      shape,
      components: comps.map((c) => ({ weight: c.weight, std: c.std, mean: new Float32Array(d).fill(c.mean) })),
    });
  }
  if (!p.model) throw new CompileError(`${who(n)}: source ${source} needs 'model' (a bundled model name or a model folder)`, n.id);
  const dir = modelDir(n)!;
  const provider = p.provider as 'auto' | ExecutionProvider;
  const loaded = await wrap(n, () => loadOnnxPrior(dir, provider === 'auto' ? {} : { providers: [provider] }));
  // The denoiser VJP DPS needs: reverse mode through the network (derived at its first use), or central differences.
  const model = p.vjp === 'symmetric-fd' ? withSymmetricVjp(loaded) : withExactVjp(loaded);
  if (shape && (model.shape.length !== shape.length || model.shape.some((v, i) => v !== shape[i]))) {
    // Say how to make a measurement that fits: a bundle is re-simulated for the prior; a
    // simulated image follows the prior unless an explicit size overrides it.
    const name = p.model as string;
    throw new CompileError(
      `${who(n)}: model ${model.id} works on ${model.shape.join('×')} images but the measurement's image is ${shape.join('×')}; ` +
        `for a measurement bundle, re-simulate with --prior ${name} (lagrange simulate … --prior ${name} fits the image to it); for a simulated image, leave out --size`,
      n.id,
    );
  }
  return model;
}

/**
 * The LPIPS network a Metrics node names (`lpips`), checked against the per-sample image shape
 * C×H×W now rather than after the run; undefined when it names none.
 */
export async function evalLpips(n: GraphNode, shape: Shape): Promise<LpipsNetwork | undefined> {
  const dir = paramsOf(n).lpips as string | undefined;
  if (!dir) return undefined;
  const net = await wrap(n, () => lpipsNetwork(dir));
  const why = lpipsShapeProblem(net.card, shape);
  if (why) throw new CompileError(`${who(n)}: ${why} (network ${net.file})`, n.id);
  return net;
}

/** Resolves a Schedule node against the prior's VP table. */
export function evalSchedule(n: GraphNode, prior: ScoreModel, iterations?: number): Value {
  const p: ScheduleParams = typedParams(n, scheduleKind);
  return wrapSync(n, () => resolveSchedule({ ...p, ...(iterations ? { iterations } : {}) }, prior.schedule));
}

/**
 * Evaluates a `resource` node (its kind's role): once, after the measurement fixed the image
 * shape and the task's overrides were merged. Dispatched by the kind's declaration.
 */
export async function evalResource(n: GraphNode, input: StaticInputs, imageShape: Shape, iterations?: number): Promise<Record<string, Value>> {
  if (n.kind === scoreModel.kind) return { prior: await evalPrior(n, imageShape) };
  if (n.kind === latentScoreModel.kind) return { prior: await evalLatentPrior(n, imageShape) };
  if (n.kind === scheduleKind.kind) {
    const prior = input('prior') as ScoreModel | undefined;
    if (!prior) throw new CompileError(`${who(n)}: input 'prior' is not connected`, n.id);
    return { schedule: evalSchedule(n, prior, iterations) };
  }
  throw new CompileError(`${who(n)}: the engine has no evaluation for resource kind ${n.kind}`, n.id);
}

/** `t`, or a CompileError naming the node, `what` and the first non-finite entry. */
function finite(n: GraphNode, t: Tensor, what: string): Tensor {
  const why = nonFiniteProblem(t, what);
  if (why) throw new CompileError(`${who(n)}: ${why}`, n.id);
  return t;
}

async function wrap<T>(n: GraphNode, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CompileError) throw e;
    throw new CompileError(`${who(n)}: ${(e as Error).message}`, n.id);
  }
}

function wrapSync<T>(n: GraphNode, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new CompileError(`${who(n)}: ${(e as Error).message}`, n.id);
  }
}
