/**
 * The node catalogue (`nodes.catalog`): every node kind in the registry — built-in and added by
 * plugins — as plain, bounded JSON, so the studio page renders kinds it was not built with. The
 * parameter schemas go out as JSON Schema (zod 4's `z.toJSONSchema`, input side: defaults, ranges,
 * enums and the `unit`/`description` meta survive); validation and compile stay here.
 */
import { z } from 'zod';
import type { NodeKind } from '../../nodes/index';
import { nodeKindOrigin, nodeKinds } from '../../nodes/index';
import { CATALOG_LIMITS } from '../../protocol/catalog';
import type { CatalogKind, CatalogParamSchema, CatalogPlugin, CatalogPort, NodeCatalog } from '../../protocol/catalog';
import { pluginReport } from '../plugin/load';
import type { PluginRecord } from '../plugin/load';
import { LAGRANGE_VERSION } from '../version';

const cut = (s: string, n: number = CATALOG_LIMITS.text): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * A kind's parameters as JSON Schema. Refinements (an odd kernel size) have no JSON form and are
 * left out (`unrepresentable: 'any'`): the engine checks them when it validates the graph.
 */
export function paramsJsonSchema(kind: Pick<NodeKind, 'kind' | 'params'>): CatalogParamSchema {
  let schema: CatalogParamSchema;
  try {
    schema = z.toJSONSchema(kind.params, { io: 'input', unrepresentable: 'any' }) as CatalogParamSchema;
  } catch {
    // A schema zod cannot express (e.g. a cycle) still gets a catalogue entry; its node takes raw JSON.
    return { type: 'object' };
  }
  delete schema.$schema; // one per answer would be noise
  return JSON.stringify(schema).length > CATALOG_LIMITS.schema ? { type: 'object' } : schema;
}

const ports = (list: NodeKind['inputs']): CatalogPort[] =>
  list.slice(0, CATALOG_LIMITS.items).map((p) => ({
    name: p.name,
    type: p.type,
    ...(p.optional ? { optional: true } : {}),
    ...(p.anySpace ? { anySpace: true } : {}),
    ...(p.space ? { space: p.space } : {}),
    doc: cut(p.doc),
  }));

/** One registry kind as a catalogue entry; `version` gives a plugin's version by name. */
export function catalogKind(kind: NodeKind, version: (plugin: string) => string | undefined = () => undefined): CatalogKind {
  const origin = nodeKindOrigin(kind.kind) ?? 'builtin';
  const task = (kind as { task?: unknown }).task;
  return {
    kind: kind.kind,
    title: cut(kind.title, 200),
    category: kind.category,
    doc: cut(kind.doc),
    inputs: ports(kind.inputs),
    outputs: ports(kind.outputs),
    params: paramsJsonSchema(kind),
    requires: (kind.requires ?? []).slice(0, CATALOG_LIMITS.items).map((r) => ({
      port: r.port,
      capability: r.capability,
      ...(r.when ? { conditional: true } : {}),
      ...(r.fallback ? { fallback: cut(r.fallback) } : {}),
    })),
    ...(typeof task === 'string' ? { task } : {}),
    plugin: origin === 'builtin' ? 'builtin' : { name: origin, version: version(origin) ?? 'unknown' },
  };
}

/** The plugin loader's records as the catalogue lists them: name, version, folder, status, reason, kinds. */
export function catalogPlugins(records: readonly PluginRecord[]): CatalogPlugin[] {
  return records.map((r) => ({
    name: r.name,
    ...(r.version ? { version: r.version } : {}),
    path: r.folder,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.description ? { description: r.description } : {}),
    kinds: [...r.registered.operators.map((o) => o.nodeKind), ...r.registered.nodeKinds],
  }));
}

/**
 * The catalogue: every kind the engine knows now (call it after `loadPlugins()`), with what the
 * plugin loader reported.
 * @param plugins - one entry per plugin folder, loaded or refused (default: this process's {@link pluginReport})
 */
export function nodeCatalog(plugins: readonly CatalogPlugin[] = catalogPlugins(pluginReport())): NodeCatalog {
  const versions = new Map(plugins.filter((p) => p.status === 'loaded' && p.version).map((p) => [p.name, p.version!]));
  const all = nodeKinds();
  return {
    engineVersion: LAGRANGE_VERSION,
    kinds: all.slice(0, CATALOG_LIMITS.kinds).map((k) => catalogKind(k, (name) => versions.get(name))),
    plugins: plugins.slice(0, CATALOG_LIMITS.items).map((p) => ({
      ...p,
      name: cut(p.name, 200),
      ...(p.reason !== undefined ? { reason: cut(p.reason) } : {}),
      ...(p.description !== undefined ? { description: cut(p.description) } : {}),
      kinds: p.kinds.slice(0, CATALOG_LIMITS.kinds),
    })),
    dropped: Math.max(0, all.length - CATALOG_LIMITS.kinds),
  };
}
