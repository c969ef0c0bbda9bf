/**
 * Where the product's files are, the same from the TypeScript sources (src/engine/…) and from the
 * built engine (out/engine/*.mjs, one folder deep): the root is the nearest folder above this
 * module holding resources/presets, so no path depends on how deep a file sits.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(from: string): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'resources', 'presets'))) return d;
    if (dirname(d) === d) throw new Error(`Lagrange Studio's resources/ folder was not found above ${from}`);
  }
}

/** The product's root folder (package.json, resources/, out/). */
export const ROOT: string = findRoot(import.meta.dirname);
/** The bundled resources: presets, samples, models. */
export const RESOURCES: string = join(ROOT, 'resources');
