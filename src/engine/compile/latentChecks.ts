/**
 * Graph checks for latent nodes that need the model cards, so that a bad latent graph is refused
 * before anything runs, naming the node, the port and both shapes:
 * - Encoder, Decoder, LatentScoreModel and LatentMCMC nodes must come from one autoencoder (by id);
 * - an edge between a latent port and an image port (either way), with the latent's shape and
 *   autoencoder and the image shape on the other side;
 * - a Decoder (or LatentMCMC) whose images do not have the shape the measurement operator takes.
 * The port types (and the spaces of anySpace ports, `graph/spaces.ts`) already make the
 * validator refuse a latent→image edge; these messages add the shapes the cards give.
 */
import { nodeKind } from '../../nodes/index';
import type { GraphDocument, GraphNode } from '../graph/format';
import { resolveSpaces } from '../graph/spaces';
import type { Shape } from '../tensor/tensor';
import { shapeStr } from '../tensor/tensor';
import { readLatentFolder, shapeOfDims } from '../priors/latentCard';
import { latentModelDir } from '../priors/latentPrior';

/** One problem, naming the node it belongs to. */
export interface LatentIssue {
  nodeId: string;
  message: string;
  /** `edges[i]` for an edge's problem (the validator's path for the same edge). */
  path?: string;
}

/** What a latent node's folder says: its autoencoder and the shapes on both sides. */
interface LatentSide {
  autoencoder: string;
  dir: string;
  latent: Shape;
  image: Shape;
}

const LATENT_KINDS = new Set(['Encoder', 'Decoder', 'LatentScoreModel', 'LatentMCMC']);
/** Kinds that decode, with their image output: their decoder's images must fit the operator. */
const DECODING: Record<string, string> = { Decoder: 'image', LatentMCMC: 'decoded' };
const label = (n: GraphNode): string => `node "${n.id}" (${n.kind})`;

function sideOf(n: GraphNode): LatentSide {
  const parsed = nodeKind(n.kind)!.params.safeParse(n.params);
  const dir = latentModelDir(parsed.success ? parsed.data : n.params);
  const f = readLatentFolder(dir);
  const card = n.kind === 'Encoder' ? f.encoder : DECODING[n.kind] ? f.decoder : undefined;
  return card
    ? { autoencoder: card.autoencoder, dir, latent: shapeOfDims(card.latent), image: shapeOfDims(card.image) }
    : { autoencoder: f.prior.block.autoencoder.id, dir, latent: f.prior.latentShape, image: shapeOfDims(f.prior.block.image) };
}

/**
 * The latent problems of `doc` (empty when it has no latent nodes or all is well).
 * @param imageShape - the measurement operator's per-sample input shape, once known
 */
export function latentGraphProblems(doc: GraphDocument, imageShape?: Shape): LatentIssue[] {
  const issues: LatentIssue[] = [];
  const sides = new Map<string, LatentSide>();
  for (const n of doc.nodes.filter((m) => LATENT_KINDS.has(m.kind))) {
    try {
      sides.set(n.id, sideOf(n));
    } catch (e) {
      issues.push({ nodeId: n.id, message: `${label(n)}: ${(e as Error).message}` });
    }
  }
  const nodes = new Map(doc.nodes.map((n) => [n.id, n]));
  const spaces = resolveSpaces(doc);
  const entries = [...sides.entries()];
  const [firstId, first] = entries[0] ?? [];
  for (const [id, s] of entries.slice(1)) {
    if (s.autoencoder !== first!.autoencoder)
      issues.push({
        nodeId: id,
        message: `${label(nodes.get(id)!)} uses autoencoder '${s.autoencoder}' (${s.dir}), but ${label(nodes.get(firstId!)!)} uses '${first!.autoencoder}' (${first!.dir}): encoder, decoder and latent prior must come from one autoencoder`,
      });
  }
  // The image shape of the graph: the measurement's, else the autoencoder's.
  const images = imageShape ?? first?.image;
  doc.edges.forEach((e, i) => {
    const src = nodes.get(e.source),
      dst = nodes.get(e.target);
    const out = src && nodeKind(src.kind)?.outputs.find((p) => p.name === e.sourcePort);
    const inp = dst && nodeKind(dst.kind)?.inputs.find((p) => p.name === e.targetPort);
    if (!out || !inp || !src || !dst) return;
    const from = spaces.portSpace(src, out, 'out'),
      to = spaces.portSpace(dst, inp, 'in');
    if (out.type === 'prior' || inp.type === 'prior' || !from || !to || from === to) return;
    // The latent end's shapes: its own card's, else (a State, a Denoise …) the graph's autoencoder's.
    const side = sides.get((from === 'latent' ? src : dst).id) ?? first;
    const latent = side ? `a latent of ${shapeStr(side.latent)} (autoencoder ${side.autoencoder})` : 'a latent';
    const image = images ? `an image of ${shapeStr(images)}` : 'an image';
    const message =
      from === 'latent'
        ? `edges[${i}]: ${label(src!)} output '${out.name}' is ${latent} but ${label(dst!)} input '${inp.name}' expects ${image}; decode it first (Decoder)`
        : `edges[${i}]: ${label(src!)} output '${out.name}' is ${image} but ${label(dst!)} input '${inp.name}' expects ${latent}; encode it first (Encoder)`;
    issues.push({ nodeId: e.target, message, path: `edges[${i}]` });
  });
  if (imageShape) {
    for (const [id, s] of sides) {
      const port = DECODING[nodes.get(id)!.kind];
      if (!port || shapeStr(s.image) === shapeStr(imageShape)) continue;
      issues.push({
        nodeId: id,
        message: `${label(nodes.get(id)!)} output '${port}' is ${shapeStr(s.image)} (autoencoder ${s.autoencoder}), but the measurement operator takes images of ${shapeStr(imageShape)}`,
      });
    }
  }
  return issues;
}

/**
 * The latent shape C×H×W of the graph's autoencoder (from the cards of its first latent node; all
 * must agree, see {@link latentGraphProblems}), or undefined when the graph has no latent node.
 */
export function latentShapeOf(doc: GraphDocument): Shape | undefined {
  const n = doc.nodes.find((m) => LATENT_KINDS.has(m.kind));
  return n && sideOf(n).latent;
}
