/**
 * The plugin manifest, `lagrange.plugin.json` at the root of a plugin folder (or npm package):
 * `{ name, version, apiVersion, entry, description?, presets? }`. Strict: an unknown key is refused
 * naming it, and an `apiVersion` this engine does not implement is refused saying which it does.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { SUPPORTED_API_VERSIONS } from './api';

/** The manifest's file name. */
export const MANIFEST_FILE = 'lagrange.plugin.json';

/** A path inside the plugin folder: relative, never climbing out of it. */
const inside = (what: string) =>
  z
    .string()
    .min(1)
    .max(500)
    .refine((p) => !isAbsolute(p) && !relative('.', p).startsWith('..'), `${what} must be a path inside the plugin folder`);

/** Schema of `lagrange.plugin.json`. */
export const manifestSchema = z.strictObject({
  /** Lower-case name, as an npm package name without scope: `ct`, `lagrange-mri`. Graph nodes name it in `plugin`. */
  name: z
    .string()
    .max(64)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit'),
  /** The plugin's own version (semantic versioning). */
  version: z.string().regex(/^\d+\.\d+\.\d+([-+][\w.+-]*)?$/, 'must be a semantic version such as 0.1.0'),
  /** The plugin API version it is written against (this engine: 1). */
  apiVersion: z.number().int(),
  /** The ESM JavaScript file whose default export is `register(api)`. */
  entry: inside('entry').refine((p) => /\.(mjs|js)$/.test(p), 'entry must be a .mjs or .js file (plain ESM JavaScript, no build step)'),
  description: z.string().max(2000).default(''),
  /** A folder of `*.lagrange.json` solver presets the plugin ships. */
  presets: inside('presets').optional(),
});

/** A checked manifest. */
export type PluginManifest = z.output<typeof manifestSchema>;

/** Raised for a manifest that cannot be used; the message is one line naming the file and the key. */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

const KEYS = Object.keys(manifestSchema.shape).join(', ');

/** The one-line reason for the first problem of a manifest. */
function reason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}; keys: ${KEYS}`;
  }
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${key}: missing; expected ${issue.expected}`;
  return `${key}: ${issue.message}`;
}

/**
 * Reads and checks `<dir>/lagrange.plugin.json`: schema, supported API version, and that the entry
 * (and the presets folder, when declared) exist.
 * @throws ManifestError with a one-line message
 */
export function readManifest(dir: string): PluginManifest {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) throw new ManifestError(`${MANIFEST_FILE}: missing in ${dir}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ManifestError(`${MANIFEST_FILE}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    // An unknown key first: it is usually a misspelling that also explains a "missing" key.
    const issues = parsed.error.issues;
    throw new ManifestError(`${MANIFEST_FILE}: ${reason(issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!)}`);
  }
  const m = parsed.data;
  if (!SUPPORTED_API_VERSIONS.includes(m.apiVersion)) {
    const supported = SUPPORTED_API_VERSIONS.join(', ');
    throw new ManifestError(`${MANIFEST_FILE}: apiVersion ${m.apiVersion} is not supported; this engine supports plugin API version ${supported}`);
  }
  if (!existsSync(resolve(dir, m.entry))) throw new ManifestError(`${MANIFEST_FILE}: entry '${m.entry}' does not exist in ${dir}`);
  if (m.presets !== undefined) {
    const p = resolve(dir, m.presets);
    if (!existsSync(p) || !statSync(p).isDirectory()) throw new ManifestError(`${MANIFEST_FILE}: presets folder '${m.presets}' does not exist in ${dir}`);
  }
  return m;
}
