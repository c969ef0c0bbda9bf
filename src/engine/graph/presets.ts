/**
 * The shipped solver presets (`resources/presets/*.lagrange.json`) and, for the shipped folder,
 * those of the loaded plugins after them: listing and lookup by name.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCES } from '../paths';
import { pluginPresets } from '../plugin/presets';

/** Where the presets ship. */
export const PRESETS_DIR = join(RESOURCES, 'presets');

/** A preset's name and description. */
export interface PresetInfo {
  name: string;
  description: string;
  /** The plugin that ships it; absent for the product's own presets. */
  plugin?: string;
}

/** The presets in `dir`, sorted by name; for the shipped folder, then the loaded plugins' presets. */
export function listPresets(dir = PRESETS_DIR): PresetInfo[] {
  const own = presetsIn(dir);
  if (dir !== PRESETS_DIR) return own;
  return [...own, ...pluginPresets(new Set(own.map((p) => p.name))).map(({ name, description, plugin }) => ({ name, description, plugin }))];
}

function presetsIn(dir: string): PresetInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.lagrange.json'))
    .sort()
    .map((f) => {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { description?: string };
      return { name: f.replace('.lagrange.json', ''), description: doc.description ?? '' };
    });
}

/** The file of preset `name` in `dir`, or undefined (names are plain words, never paths). */
export function presetFile(name: string, dir = PRESETS_DIR): string | undefined {
  const f = join(dir, `${name}.lagrange.json`);
  if (!/^[\w-]+$/.test(name)) return undefined;
  if (existsSync(f)) return f;
  return dir === PRESETS_DIR ? pluginPresets().find((p) => p.name === name)?.file : undefined;
}
