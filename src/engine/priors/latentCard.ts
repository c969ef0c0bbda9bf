/**
 * Latent model cards: the encoder and decoder cards of an autoencoder (`encoder.json`,
 * `decoder.json`) and the `latent` block of a latent score model's `model.json`, which names the
 * autoencoder whose latent space the prior models (id and the SHA-256 of its two ONNX files), the
 * scale factor s (the prior works on s·E(x)) and the image shape behind the latent. The prior's
 * own `image` field is the latent shape C×H×W its network takes, so the pixel-prior tooling
 * (check, gradcheck, sample) works on it unchanged. Validated with zod; errors name the file and
 * the JSON path; {@link latentFolderProblems} says what does not fit together.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../io/json';
import type { Shape } from '../tensor/tensor';
import { shapeStr } from '../tensor/tensor';
import { ModelCardError, readModelCard } from './modelCard';

const dims = z.object({ channels: z.number().int().min(1), height: z.number().int().min(1), width: z.number().int().min(1) });
const imageDims = dims.extend({ range: z.tuple([z.literal(-1), z.literal(1)]) });
const sha = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');

/** Schema of `encoder.json` / `decoder.json`. */
export const autoencoderCardSchema = z.object({
  format: z.literal('lagrange-autoencoder'),
  version: z.literal(1),
  role: z.enum(['encoder', 'decoder']),
  /** Which autoencoder this half belongs to; the other half and the prior must name the same. */
  autoencoder: z.string().min(1),
  description: z.string(),
  dataset: z.string(),
  license: z.string(),
  training: z.string(),
  quality: z.record(z.string(), z.unknown()).optional(),
  image: imageDims,
  latent: dims,
  /** s: the prior's latents are s·z for the network's raw z (encoder output, decoder input). */
  scaleFactor: z.number().positive(),
  /** Tensor names: the encoder maps inputs.x to outputs.z, the decoder inputs.z to outputs.x. */
  inputs: z.record(z.string(), z.string()),
  outputs: z.record(z.string(), z.string()),
  files: z.object({ model: z.string().min(1) }),
});

/** A parsed encoder or decoder card. */
export type AutoencoderCard = z.infer<typeof autoencoderCardSchema>;

/** Schema of the `latent` block of a latent prior's `model.json`. */
export const latentBlockSchema = z.object({
  autoencoder: z.object({
    id: z.string().min(1),
    encoder: z.string().min(1),
    decoder: z.string().min(1),
    sha256: z.object({ encoder: sha, decoder: sha }),
  }),
  scaleFactor: z.number().positive(),
  image: imageDims,
});

/** A parsed `latent` block. */
export type LatentBlock = z.infer<typeof latentBlockSchema>;

/** C×H×W of a card's dims. */
export const shapeOfDims = (d: z.infer<typeof dims>): Shape => [d.channels, d.height, d.width];

/** The tensor names a role reads and writes: the encoder x → z, the decoder z → x. */
export function ioNames(card: AutoencoderCard): { input: string; output: string } {
  const [from, to] = card.role === 'encoder' ? ['x', 'z'] : ['z', 'x'];
  const input = card.inputs[from],
    output = card.outputs[to];
  if (!input || !output) throw new ModelCardError(`${card.role}.json: needs inputs.${from} and outputs.${to} (the ONNX tensor names)`);
  return { input, output };
}

/**
 * Reads and validates an autoencoder card, and checks that its role is the one asked for.
 * @param file - path of `encoder.json` or `decoder.json`
 */
export function readAutoencoderCard(file: string, role: AutoencoderCard['role']): AutoencoderCard {
  const card = readJsonFile(file, autoencoderCardSchema, (m) => new ModelCardError(m), `a latent model folder needs ${role}.json next to its ${role}.onnx`);
  if (card.role !== role) throw new ModelCardError(`${file}: role is '${card.role}', expected '${role}'`);
  ioNames(card);
  return card;
}

/** The `latent` block of `<dir>/model.json`, or undefined for a pixel prior's card. */
export function readLatentBlock(dir: string): LatentBlock | undefined {
  const file = join(dir, 'model.json');
  const raw = readJsonFile(file, z.object({ latent: z.unknown().optional() }), (m) => new ModelCardError(m), 'a model folder needs model.json');
  if (raw.latent === undefined) return undefined;
  const parsed = latentBlockSchema.safeParse(raw.latent);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelCardError(`${file}: latent.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** A latent model folder's three cards, read and validated one by one. */
export interface LatentFolder {
  dir: string;
  /** The prior's card name, its latent block and the latent shape its network takes. */
  prior: { name: string; block: LatentBlock; latentShape: Shape };
  encoder: AutoencoderCard;
  decoder: AutoencoderCard;
}

/**
 * Reads the prior card of `dir` and the autoencoder cards its `latent` block names.
 * @throws ModelCardError when `dir` holds a pixel prior or a card is malformed
 */
export function readLatentFolder(dir: string): LatentFolder {
  const card = readModelCard(dir);
  const block = readLatentBlock(dir);
  if (!block) throw new ModelCardError(`${join(dir, 'model.json')}: no 'latent' block: ${card.name} is a pixel prior, not a latent one`);
  return {
    dir,
    prior: { name: card.name, block, latentShape: [card.image.channels, card.image.height, card.image.width] },
    encoder: readAutoencoderCard(join(dir, block.autoencoder.encoder), 'encoder'),
    decoder: readAutoencoderCard(join(dir, block.autoencoder.decoder), 'decoder'),
  };
}

const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * What does not fit together in a latent folder, each message naming the files and both values:
 * the autoencoder ids, the ONNX files' hashes against the prior's record, the latent and image
 * shapes of the three cards, and the scale factors. Empty when everything agrees.
 */
export function latentFolderProblems(f: LatentFolder): string[] {
  const problems: string[] = [];
  const priorFile = join(f.dir, 'model.json');
  const { block } = f.prior;
  const halves = [
    ['encoder', f.encoder, join(f.dir, block.autoencoder.encoder)],
    ['decoder', f.decoder, join(f.dir, block.autoencoder.decoder)],
  ] as const;
  for (const [role, card, file] of halves) {
    if (card.autoencoder !== block.autoencoder.id) problems.push(`${file}: autoencoder '${card.autoencoder}', but ${priorFile} belongs to autoencoder '${block.autoencoder.id}'`);
    const latent = shapeOfDims(card.latent);
    if (shapeStr(latent) !== shapeStr(f.prior.latentShape))
      problems.push(`${file}: latent ${shapeStr(latent)}, but the prior in ${priorFile} takes latents of ${shapeStr(f.prior.latentShape)} (its image field)`);
    if (shapeStr(shapeOfDims(card.image)) !== shapeStr(shapeOfDims(block.image)))
      problems.push(`${file}: image ${shapeStr(shapeOfDims(card.image))}, but ${priorFile} latent.image is ${shapeStr(shapeOfDims(block.image))}`);
    if (Math.abs(card.scaleFactor - block.scaleFactor) > 1e-9 * block.scaleFactor)
      problems.push(`${file}: scaleFactor ${card.scaleFactor}, but ${priorFile} latent.scaleFactor is ${block.scaleFactor}`);
    const onnx = join(f.dir, card.files.model);
    if (!existsSync(onnx)) problems.push(`${onnx}: missing (named by ${file} files.model)`);
    else if (sha256File(onnx) !== block.autoencoder.sha256[role])
      problems.push(
        `${onnx}: SHA-256 ${sha256File(onnx).slice(0, 12)}…, but ${priorFile} latent.autoencoder.sha256.${role} records ${block.autoencoder.sha256[role].slice(0, 12)}… (a different ${role})`,
      );
  }
  return problems;
}
