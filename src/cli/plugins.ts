/** `lagrange plugins list`: each plugin folder found, what it registered, or why it was refused. */
import { listPresets } from '../engine/graph/presets';
import type { PluginRecord } from '../engine/plugin/load';
import { pluginReport, userPluginsDir } from '../engine/plugin/load';
import { pluginPresets } from '../engine/plugin/presets';

/** The presets each loaded plugin ships, by plugin name (names a built-in preset already uses are left out). */
function presetsByPlugin(taken: ReadonlySet<string>): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const p of pluginPresets(taken)) by.set(p.plugin, [...(by.get(p.plugin) ?? []), p.name]);
  return by;
}

/** A plugin's record as `--json` prints it. */
export interface PluginListing {
  name: string;
  version: string | null;
  folder: string;
  source: PluginRecord['source'];
  status: PluginRecord['status'];
  reason: string | null;
  description: string | null;
  operators: { id: string; nodeKind: string }[];
  nodeKinds: string[];
  presets: string[];
  loadMs: number;
}

/** The listing: text lines, or one JSON line `{ plugins: [...] }`. */
export function pluginsList(json: boolean): string[] {
  // A plugin preset named like one of the product's is not offered: the product's wins.
  const presets = presetsByPlugin(
    new Set(
      listPresets()
        .filter((p) => !p.plugin)
        .map((p) => p.name),
    ),
  );
  const listing: PluginListing[] = pluginReport().map((r) => ({
    name: r.name,
    version: r.version ?? null,
    folder: r.folder,
    source: r.source,
    status: r.status,
    reason: r.reason ?? null,
    description: r.description ?? null,
    operators: r.registered.operators,
    nodeKinds: r.registered.nodeKinds,
    presets: presets.get(r.name) ?? [],
    loadMs: Math.round(r.ms * 10) / 10,
  }));
  if (json) return [JSON.stringify({ plugins: listing })];
  if (listing.length === 0) return [`no plugins found; put plugin folders in ${userPluginsDir()}, list them in LAGRANGE_PLUGINS or pass --plugin <dir>`];
  const lines: string[] = [];
  for (const p of listing) {
    lines.push(`${p.name.padEnd(16)} ${(p.version ?? '-').padEnd(9)} ${p.status.padEnd(8)} ${p.folder}`);
    if (p.status === 'refused') {
      lines.push(`  ${p.reason}`);
      continue;
    }
    if (p.description) lines.push(`  ${p.description}`);
    if (p.operators.length) lines.push(`  operators: ${p.operators.map((o) => `${o.id} (node ${o.nodeKind})`).join(', ')}`);
    if (p.nodeKinds.length) lines.push(`  node kinds: ${p.nodeKinds.join(', ')}`);
    if (p.presets.length) lines.push(`  presets: ${p.presets.join(', ')}`);
    if (!p.operators.length && !p.nodeKinds.length && !p.presets.length) lines.push('  registered nothing');
  }
  return lines;
}
