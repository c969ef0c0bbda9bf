/**
 * The node kinds the editor offers, as one list in the catalogue's wire form: the page's bundled
 * declarations until the engine has answered `nodes.catalog`, the engine's list after (it is what
 * validates and compiles, and it holds the plugins' kinds). A document node whose kind is in
 * neither keeps its ports (read from its edges) and parameters, and says which plugin it needs.
 * Pure functions: the store (catalog.ts) and the views call them.
 */
import { z } from 'zod';
import { operatorNodes } from '../../nodes/index';
import type { NodeCategory, NodeKind, PortType } from '../../nodes/index';
import type { CatalogKind, CatalogParamSchema, CatalogPlugin, CatalogPort, NodeCatalog } from '../../protocol/catalog';
import type { WireGraph } from '../../protocol/messages';
import type { FieldSpec } from '../editor/schemaFields';

const CATEGORIES: readonly NodeCategory[] = ['input', 'operator', 'prior', 'schedule', 'state', 'update', 'sampler', 'output'];
const PORT_TYPES: readonly PortType[] = ['image', 'latent', 'measurement', 'operator', 'prior', 'schedule', 'scalar'];

/** The bundled declarations in catalogue form (parameters converted to JSON Schema here, as the engine does). */
export function bundledCatalog(kinds: readonly NodeKind[]): CatalogKind[] {
  return kinds.map((k) => {
    const task = (k as { task?: unknown }).task;
    let params: CatalogParamSchema;
    try {
      params = z.toJSONSchema(k.params, { io: 'input', unrepresentable: 'any' }) as CatalogParamSchema;
    } catch {
      params = { type: 'object' };
    }
    return {
      kind: k.kind,
      title: k.title,
      category: k.category,
      doc: k.doc,
      inputs: k.inputs.map((p) => ({ ...p })),
      outputs: k.outputs.map((p) => ({ ...p })),
      params,
      requires: (k.requires ?? []).map((r) => ({
        port: r.port,
        capability: r.capability,
        ...(r.when ? { conditional: true } : {}),
        ...(r.fallback ? { fallback: r.fallback } : {}),
      })),
      ...(typeof task === 'string' ? { task } : {}),
      plugin: 'builtin' as const,
    };
  });
}

// A kind from a newer engine or a plugin may name a category or port type this page has no style
// for: it is still shown (as an update node, with a neutral port colour) instead of being dropped.
const category = (c: unknown): NodeCategory => (CATEGORIES.includes(c as NodeCategory) ? (c as NodeCategory) : 'update');

/** The kinds the editor offers: the engine's when it has answered, else the bundled ones. */
export function mergeKinds(bundled: readonly CatalogKind[], engine: NodeCatalog | undefined): CatalogKind[] {
  if (!engine) return [...bundled];
  const seen = new Set<string>();
  const out: CatalogKind[] = [];
  for (const k of engine.kinds) {
    if (typeof k?.kind !== 'string' || seen.has(k.kind)) continue;
    seen.add(k.kind);
    out.push({ ...k, category: category(k.category), inputs: k.inputs ?? [], outputs: k.outputs ?? [], params: k.params ?? { type: 'object' }, requires: k.requires ?? [] });
  }
  return out;
}

/**
 * The operator kinds a measurement can be simulated for from an image alone (the run panel's and
 * Compare's task choices): the built-in task table (`operatorNodes`; not OnnxOperator, which
 * needs its folder) and every plugin operator.
 */
export function taskKinds(kinds: readonly CatalogKind[]): CatalogKind[] {
  return kinds.filter((k) => k.task !== undefined && (k.plugin !== 'builtin' || operatorNodes.some((o) => o.task === k.task)));
}

/** The plugin a kind comes from, or undefined for a built-in kind. */
export const pluginOf = (k: Pick<CatalogKind, 'plugin'> | undefined): string | undefined => (k && k.plugin !== 'builtin' ? k.plugin.name : undefined);

/** Whether a port type has a colour token (styles.css); others are drawn neutral. */
export const knownPortType = (t: string): t is PortType => PORT_TYPES.includes(t as PortType);

type Lookup = (kind: string) => CatalogKind | undefined;

/**
 * The ports of node `id` whose kind is unknown, as its edges use them: inputs by target port,
 * outputs by source port, each typed like the known port at its other end (else `image`).
 */
export function storedPorts(doc: WireGraph, id: string, lookup: Lookup): { inputs: CatalogPort[]; outputs: CatalogPort[] } {
  const kindOfNode = new Map(doc.nodes.map((n) => [n.id, n.kind]));
  const typeAt = (node: string, side: 'inputs' | 'outputs', port: string): PortType => {
    const k = lookup(kindOfNode.get(node) ?? '');
    const t = k?.[side].find((p) => p.name === port)?.type;
    return t && knownPortType(t) ? t : 'image';
  };
  const doc_ = 'as stored in the document (the node kind is not known to the engine)';
  const inputs = new Map<string, CatalogPort>();
  const outputs = new Map<string, CatalogPort>();
  for (const e of doc.edges) {
    if (e.target === id && !inputs.has(e.targetPort)) inputs.set(e.targetPort, { name: e.targetPort, type: typeAt(e.source, 'outputs', e.sourcePort), doc: doc_ });
    if (e.source === id && !outputs.has(e.sourcePort)) outputs.set(e.sourcePort, { name: e.sourcePort, type: typeAt(e.target, 'inputs', e.targetPort), doc: doc_ });
  }
  return { inputs: [...inputs.values()], outputs: [...outputs.values()] };
}

/**
 * What the editor says on a node whose kind the engine does not know: the plugin to install (from
 * the node's `plugin` field) and, when the loader refused that plugin, why.
 */
export function missingKindMessage(node: Pick<WireGraph['nodes'][number], 'kind' | 'plugin'>, plugins: readonly CatalogPlugin[] = []): string {
  if (!node.plugin) return `Node kind '${node.kind}' is not known to the engine, and the document names no plugin for it; its parameters and connections are kept.`;
  const refused = plugins.find((p) => p.name === node.plugin && p.status === 'refused');
  if (refused) return `Node kind '${node.kind}' comes from plugin '${node.plugin}', which was refused at load: ${refused.reason ?? 'no reason given'}.`;
  return `Node kind '${node.kind}' comes from plugin '${node.plugin}', which is not installed: add it to ~/.lagrange/plugins (or LAGRANGE_PLUGINS) and restart the studio. Its parameters and connections are kept.`;
}

/** The same in a few words, for the node on the canvas: which plugin it needs and what became of it. */
export function missingKindShort(node: Pick<WireGraph['nodes'][number], 'kind' | 'plugin'>, plugins: readonly CatalogPlugin[] = []): string {
  if (!node.plugin) return 'unknown kind (no plugin named)';
  const refused = plugins.some((p) => p.name === node.plugin && p.status === 'refused');
  return `needs plugin '${node.plugin}' (${refused ? 'refused at load' : 'not installed'})`;
}

/** Inspector fields for the stored parameters of a node whose kind is unknown, typed by their values. */
export function storedFields(params: Record<string, unknown>): FieldSpec[] {
  return Object.entries(params).map(([name, v]) => {
    const control: FieldSpec['control'] = typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : typeof v === 'string' ? 'string' : 'json';
    return { name, control, required: false };
  });
}
