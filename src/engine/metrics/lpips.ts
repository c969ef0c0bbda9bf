/**
 * LPIPS (learned perceptual image patch similarity) through an ONNX network: a model folder holds
 * `model.onnx` and its card `model.json` (format `lagrange-lpips`, written by
 * tools/export_lpips.py). The distance is computed at the images' own resolution, as the reference
 * metric does — no resizing — so the card's `minSide` (31 px for AlexNet) is the smallest image
 * it accepts; the bundled 32 px prior's images just fit (conv1 gives 7×7, conv3–5 1×1).
 * Conventions, applied here and not in the graph: values are clipped to [−1, 1] (as PSNR and SSIM
 * clip), and one-channel images are replicated to the network's three channels.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { readJsonFile } from '../io/json';
import type { ExecutionProvider, LoadOnnxOptions } from '../priors/onnxPrior';
import { ModelError, openSession, PROVIDER_ORDER } from '../priors/onnxPrior';
import type { Shape, Tensor } from '../tensor/tensor';
import { ShapeError, shapeStr } from '../tensor/tensor';
import { pairShape } from './common';

/** Schema of an LPIPS network's `model.json`. */
export const lpipsCardSchema = z.object({
  format: z.literal('lagrange-lpips', {
    error: "expected 'lagrange-lpips' (an LPIPS network's card, written by tools/export_lpips.py); 'lagrange-model' is a score model's card",
  }),
  version: z.literal(1),
  name: z.string().min(1),
  description: z.string(),
  /** The feature network; only AlexNet-LPIPS is exported so far. */
  architecture: z.literal('alex'),
  /** Where the weights came from: the LPIPS weights version and package, the source files' hashes. */
  weights: z.object({
    kind: z.enum(['pretrained', 'random']),
    version: z.string().min(1),
    package: z.string().min(1),
    sources: z.array(z.string()),
    seed: z.number().int().optional(),
  }),
  license: z.string(),
  /** What the graph takes: N×3×H×W in [−1, 1], H and W ≥ minSide. */
  input: z.object({
    channels: z.literal(3),
    range: z.tuple([z.literal(-1), z.literal(1)]),
    minSide: z.number().int().min(1),
  }),
  inputs: z.object({ x: z.string(), ref: z.string() }),
  /** One distance per sample, N×1×1×1. */
  outputs: z.object({ distance: z.string() }),
  files: z.object({ model: z.string() }),
});

/** A parsed LPIPS card. */
export type LpipsCard = z.infer<typeof lpipsCardSchema>;

/** Reads and validates `<dir>/model.json` as an LPIPS card; errors name the file and JSON path. */
export function readLpipsCard(dir: string): LpipsCard {
  return readJsonFile(
    join(dir, 'model.json'),
    lpipsCardSchema,
    (m) => new ModelError(m),
    'an LPIPS model folder holds model.json and model.onnx (tools/export_lpips.py writes both)',
  );
}

/** Why images of per-sample shape C×H×W cannot be scored by `card`'s network, or undefined. */
export function lpipsShapeProblem(card: LpipsCard, shape: Shape): string | undefined {
  const [c, h, w] = shape as [number, number, number];
  if (shape.length !== 3 || (c !== 1 && c !== 3)) return `LPIPS takes 1- or 3-channel images (C×H×W), got ${shapeStr(shape)}`;
  const m = card.input.minSide;
  if (h < m || w < m) return `LPIPS (${card.architecture}) needs images of at least ${m}×${m} px (it is computed at the image's own size, without resizing), got ${h}×${w}`;
  return undefined;
}

/** An open LPIPS network. */
export interface LpipsNetwork {
  readonly card: LpipsCard;
  /** Path of the ONNX file. */
  readonly file: string;
  readonly provider: ExecutionProvider;
  /**
   * LPIPS(x, ref) = Σ_l mean_{h,w} Σ_c w_{l,c} (û_l(x) − û_l(ref))², per sample, where û_l are
   * the unit-normalised features of layer l; 0 for identical images.
   * @param x - N×C×H×W, C = 1 or 3, values in [−1, 1] (clipped to it)
   * @param ref - the same shape
   * @throws ShapeError for mismatched or unsupported shapes; ModelError when the network fails
   *   or does not give one value per sample
   */
  distance(x: Tensor, ref: Tensor): Promise<number[]>;
  release(): Promise<void>;
}

/** Float32 N×3×H×W input: clipped to [−1, 1], one channel replicated to three. */
function networkInput(t: Tensor, n: number, c: number, hw: number): Float32Array {
  const out = new Float32Array(n * 3 * hw);
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < 3; k++) {
      const src = (s * c + (c === 1 ? 0 : k)) * hw,
        dst = (s * 3 + k) * hw;
      for (let i = 0; i < hw; i++) out[dst + i] = Math.min(1, Math.max(-1, t.data[src + i]!));
    }
  }
  return out;
}

/**
 * Loads the LPIPS network in `dir` (model.json + model.onnx) and checks the card's tensor names
 * and the graph's input shapes against each other.
 * @throws ModelError naming the file and what was expected
 */
export async function loadLpips(dir: string, opts: LoadOnnxOptions = {}): Promise<LpipsNetwork> {
  const cardFile = join(dir, 'model.json');
  const card = readLpipsCard(dir);
  const file = join(dir, card.files.model);
  if (!existsSync(file)) throw new ModelError(`${file}: missing (named by ${cardFile} files.model)`);
  const { session, provider } = await openSession(file, opts.providers ?? PROVIDER_ORDER);
  for (const [role, name] of Object.entries(card.inputs)) {
    const meta = session.inputMetadata.find((m) => m.name === name);
    if (!meta) throw new ModelError(`${cardFile}: inputs.${role} = '${name}' is not an input of ${file} (its inputs: ${session.inputNames.join(', ')})`);
    // Symbolic dims are fine; a fixed channel count other than 3 or a non-4-D input is not LPIPS.
    if (meta.isTensor && (meta.shape.length !== 4 || (typeof meta.shape[1] === 'number' && meta.shape[1] !== 3))) {
      throw new ModelError(`${file}: input '${name}' is [${meta.shape.join(', ')}], expected [N, 3, H, W] (an LPIPS network compares two RGB batches)`);
    }
  }
  if (!session.outputNames.includes(card.outputs.distance)) {
    throw new ModelError(`${cardFile}: outputs.distance = '${card.outputs.distance}' is not an output of ${file} (its outputs: ${session.outputNames.join(', ')})`);
  }
  return {
    card,
    file,
    provider,
    async distance(x, ref) {
      const [n, c, h, w] = pairShape('lpips', x, ref);
      const why = lpipsShapeProblem(card, [c, h, w]);
      if (why) throw new ShapeError(`lpips (${file}): ${why}`);
      const dims = [n, 3, h, w];
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run({
          [card.inputs.x]: new ort.Tensor('float32', networkInput(x, n, c, h * w), dims),
          [card.inputs.ref]: new ort.Tensor('float32', networkInput(ref, n, c, h * w), dims),
        });
      } catch (e) {
        throw new ModelError(`${file}: failed on ${n}×3×${h}×${w} inputs: ${(e as Error).message.split('\n')[0]}`, { cause: e });
      }
      const d = out[card.outputs.distance]!;
      if (d.type !== 'float32' || d.dims[0] !== n || d.dims.reduce((a, b) => a * b, 1) !== n) {
        throw new ModelError(`${file}: output '${card.outputs.distance}' is ${d.type} ${shapeStr(d.dims)}; an LPIPS network gives one float32 distance per sample (${n}×1×1×1)`);
      }
      return Array.from(d.data as Float32Array);
    },
    release: () => session.release(),
  };
}

const cache = new Map<string, { stamp: string; network: Promise<LpipsNetwork> }>();

/**
 * The LPIPS network in `dir`, opened once per thread and shared (runs and study rows score with
 * the same session); reopened when model.json or model.onnx changes on disk. A failed load is not
 * kept, so a fixed folder works on the next call.
 */
export function lpipsNetwork(dir: string): Promise<LpipsNetwork> {
  const key = resolve(dir);
  const mtime = (f: string): number => (existsSync(f) ? statSync(f).mtimeMs : 0);
  const stamp = `${mtime(join(key, 'model.json'))}|${mtime(join(key, 'model.onnx'))}`;
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp) return hit.network;
  const network = loadLpips(key);
  cache.set(key, { stamp, network });
  network.catch(() => {
    if (cache.get(key)?.network === network) cache.delete(key);
  });
  return network;
}

/** Releases every network {@link lpipsNetwork} opened (tests, host shutdown). */
export async function releaseLpipsNetworks(): Promise<void> {
  const open = [...cache.values()];
  cache.clear();
  await Promise.all(open.map(async (e) => (await e.network.catch(() => undefined))?.release()));
}
