/**
 * The model card (`model.json`) that describes an ONNX score model: image shape and range,
 * parameterisation, noise schedule, tensor names, timestep convention, licence and provenance.
 * Validated with zod; errors name the file and the JSON path.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { VPSchedule } from '../diffusion/schedule';
import { linearSchedule, tableSchedule } from '../diffusion/schedule';
import { readJsonFile } from '../io/json';

const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('linear'), T: z.number().int().min(1), betaMin: z.number().positive(), betaMax: z.number().positive() }),
  z.object({ kind: z.literal('table'), alphaBars: z.array(z.number().gt(0).lte(1)).min(1) }),
]);

/** Schema of `model.json`. */
export const modelCardSchema = z.object({
  format: z.literal('lagrange-model'),
  version: z.literal(1),
  name: z.string().min(1),
  description: z.string(),
  dataset: z.string(),
  license: z.string(),
  training: z.string(),
  quality: z.record(z.string(), z.unknown()).optional(),
  image: z.object({
    channels: z.number().int().min(1),
    height: z.number().int().min(1),
    width: z.number().int().min(1),
    range: z.tuple([z.literal(-1), z.literal(1)]),
  }),
  /** What the network predicts: ε, x₀, or v = √ᾱ ε − √(1−ᾱ) x₀. */
  parameterization: z.enum(['eps', 'x0', 'v']),
  schedule: scheduleSchema,
  inputs: z.object({ x: z.string(), t: z.string() }),
  /**
   * The prediction output, N×C×H×W. `learnedVariance: true` declares an ADM learn_sigma network,
   * whose output has 2C channels (the prediction, then C variance-interpolation channels v, which
   * Denoise passes on for ZUpdate's variance "learned"); any other channel count is refused when
   * the model loads.
   */
  outputs: z.object({ prediction: z.string(), learnedVariance: z.boolean().optional() }),
  /** Network timestep fed for schedule step t: dtype, and t·scale (e.g. 0.001 for t/T in [0, 1)). */
  timestep: z.object({ dtype: z.enum(['int64', 'int32', 'float32']), scale: z.number().positive() }),
  files: z.object({ model: z.string() }),
});

/** A parsed model card. */
export type ModelCard = z.infer<typeof modelCardSchema>;

/** Raised for a missing or malformed model card; the message names the file and the JSON path. */
export class ModelCardError extends Error {
  override name = 'ModelCardError';
}

/** Reads and validates `<dir>/model.json`. */
export function readModelCard(dir: string): ModelCard {
  return readJsonFile(join(dir, 'model.json'), modelCardSchema, (m) => new ModelCardError(m), 'a model folder needs model.json next to its .onnx file');
}

/** Channels of the network's prediction output the card promises: C, or 2C with learned variance. */
export function cardOutputChannels(card: ModelCard): number {
  return card.outputs.learnedVariance ? 2 * card.image.channels : card.image.channels;
}

/** The VP schedule a card declares. */
export function cardSchedule(card: ModelCard): VPSchedule {
  const s = card.schedule;
  return s.kind === 'linear' ? linearSchedule(s.T, s.betaMin, s.betaMax) : tableSchedule(Float64Array.from(s.alphaBars));
}
