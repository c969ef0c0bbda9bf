/**
 * The parameters a node gets when it is placed by hand, where one choice is right for everyone:
 * a State is named after the registers not yet in the graph (x, z, u, …) instead of a second `x`;
 * a ScoreModel uses the bundled prior when one is installed, and an Image that prior's first
 * held-out picture (not a colour photo the prior would have to convert). They are written into the
 * node's `params`, not made schema defaults: a saved document that relied on a declaration's
 * default (`params: {}`) keeps meaning what it meant.
 */
import type { Results, WireGraph } from '../../protocol/messages';

/** Register names offered to new State nodes, in order. */
export const STATE_NAMES = ['x', 'z', 'u', 'x_t', 'v', 'w'] as const;

/** What the engine has installed (the catalogue store's lists). */
export interface Installed {
  models: Results['models.list'];
  images: Results['images.list'];
}

/**
 * The bundled image prior to offer: the first bundled model of 1 or 3 channels (a latent prior's
 * 4-channel latents are not images a hand-built pixel graph can use).
 */
export function bundledPrior(models: Installed['models']): string | undefined {
  return models.find((m) => m.origin === 'bundled' && (m.shape[0] === 1 || m.shape[0] === 3))?.name;
}

/** A State name no State of `doc` uses. */
export function freshStateName(doc: WireGraph): string {
  const used = new Set(doc.nodes.filter((n) => n.kind === 'State').map((n) => String(n.params.name ?? 'x')));
  return STATE_NAMES.find((s) => !used.has(s)) ?? Array.from({ length: doc.nodes.length + 2 }, (_, i) => `s${i + 1}`).find((s) => !used.has(s))!;
}

/** The parameters a new node of `kind` starts with in `doc` ({} where the declaration's defaults are right). */
export function initialParams(kind: string, doc: WireGraph, installed: Installed): Record<string, unknown> {
  const prior = bundledPrior(installed.models);
  switch (kind) {
    case 'State':
      return { name: freshStateName(doc) };
    case 'ScoreModel':
      return prior ? { source: 'bundled', model: prior } : {};
    case 'ImageInput': {
      const held = prior && installed.images.find((i) => i.ref.startsWith(`model:${prior}/heldout/`));
      return held ? { source: held.ref } : {};
    }
    default:
      return {};
  }
}
