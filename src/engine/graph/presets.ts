/** The shipped solver presets (`resources/presets/*.lagrange.json`): listing and lookup by name. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCES } from '../paths';

/** Where the presets ship. */
export const PRESETS_DIR = join(RESOURCES, 'presets');

/** A preset's name and description. */
export interface PresetInfo {
  name: string;
  description: string;
}

/** The presets in `dir`, sorted by name. */
export function listPresets(dir = PRESETS_DIR): PresetInfo[] {
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
  return /^[\w-]+$/.test(name) && existsSync(f) ? f : undefined;
}
