/**
 * Latent graphs in studies: a latent preset carries its own latent model, so a study's `--prior`
 * reaches it only when it names a latent model folder (then every latent node takes it), and the
 * reference rows of such a study load images at the shape its autoencoder decodes.
 */
import type { GraphDocument } from '../graph/format';
import { resolveModelDir } from '../priors/catalog';
import { readLatentBlock } from '../priors/latentCard';
import type { LatentBlock } from '../priors/latentCard';

/** The node kinds that name a latent model folder. */
const LATENT_KINDS = new Set(['LatentScoreModel', 'LatentXUpdate', 'Encoder', 'Decoder']);

/** Whether `doc` solves in a latent space (it has a LatentScoreModel). */
export const isLatentGraph = (doc: GraphDocument): boolean => doc.nodes.some((n) => n.kind === 'LatentScoreModel');

/** The latent block of a `--prior` (bundled name or folder), or undefined for a pixel prior, an analytic one or an unreadable card. */
export function latentBlockOf(prior: string | undefined, looksLikePath: boolean): LatentBlock | undefined {
  if (!prior || prior === 'gaussian' || prior === 'gmm') return undefined;
  try {
    return readLatentBlock(looksLikePath ? prior : resolveModelDir(prior));
  } catch {
    return undefined;
  }
}

/** `doc` with every latent node on the latent model `prior`; a pixel prior is refused naming both. */
export function withLatentPrior(base: GraphDocument, prior: string, looksLikePath: boolean): GraphDocument {
  if (!latentBlockOf(prior, looksLikePath))
    throw new Error(`graph "${base.name}" solves in a latent space; --prior ${prior} is not a latent model folder (model.json with a latent block)`);
  const doc = structuredClone(base);
  for (const n of doc.nodes.filter((m) => LATENT_KINDS.has(m.kind))) n.params = { ...n.params, source: looksLikePath ? 'onnx' : 'bundled', model: prior };
  return doc;
}
