/**
 * Solver presets shipped by loaded plugins (the manifest's `presets` folder of `*.lagrange.json`).
 * They are listed after the built-in presets, marked with the plugin's name; a name a built-in
 * preset or an earlier plugin already uses is left out (the first owner keeps it).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pluginReport } from './load';

/** A plugin's preset: name (file name without `.lagrange.json`), description, file, plugin. */
export interface PluginPreset {
  name: string;
  description: string;
  file: string;
  plugin: string;
}

/** A preset file's description; one that is not JSON is listed anyway (loading it names the problem). */
function describe(file: string): string {
  try {
    return String((JSON.parse(readFileSync(file, 'utf8')) as { description?: unknown }).description ?? '');
  } catch {
    return '(not valid JSON)';
  }
}

/** Presets of the loaded plugins whose names are not in `taken`, in load order then by name. */
export function pluginPresets(taken: ReadonlySet<string> = new Set()): PluginPreset[] {
  const out: PluginPreset[] = [];
  const names = new Set(taken);
  for (const p of pluginReport()) {
    if (p.status !== 'loaded' || !p.presetsDir || !existsSync(p.presetsDir)) continue;
    for (const f of readdirSync(p.presetsDir)
      .filter((x) => x.endsWith('.lagrange.json'))
      .sort()) {
      const name = f.slice(0, -'.lagrange.json'.length);
      if (!/^[\w-]+$/.test(name) || names.has(name)) continue;
      names.add(name);
      out.push({ name, description: describe(join(p.presetsDir, f)), file: join(p.presetsDir, f), plugin: p.name });
    }
  }
  return out;
}
