/**
 * Finds and loads plugins: every folder holding `lagrange.plugin.json` under `~/.lagrange/plugins`
 * and on `LAGRANGE_PLUGINS` (a `path.delimiter`-separated list; each entry a plugin folder or a
 * folder of plugin folders). Each entry is imported by file URL (never bundled), its default export
 * `register(api)` is awaited, and every operator it registered must pass `checkOperator` on a small
 * image. A plugin that fails any step is refused with a one-line reason and everything it
 * registered is rolled back; the others load regardless.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginRegistrations } from './api';
import { PluginApiError, createPluginApi } from './api';
import { OperatorError } from '../operators/registry';
import { checkRegisteredOperator } from './checks';
import { MANIFEST_FILE, readManifest } from './manifest';
import type { PluginManifest } from './manifest';

/** Where a plugin folder was found. */
export type PluginSource = 'home' | 'env';

/** What became of one plugin folder. */
export interface PluginRecord {
  /** The manifest's name, or the folder's name when the manifest could not be read. */
  readonly name: string;
  readonly version?: string;
  readonly description?: string;
  /** Absolute folder. */
  readonly folder: string;
  readonly source: PluginSource;
  readonly status: 'loaded' | 'refused';
  /** Why it was refused: one line naming the plugin and the failing step or property. */
  readonly reason?: string;
  /** What it registered (empty when refused: a refused plugin is rolled back). */
  readonly registered: PluginRegistrations;
  /** Its presets folder (absolute), when it declares one and was loaded. */
  readonly presetsDir?: string;
  /** Milliseconds from import to the end of the checks. */
  readonly ms: number;
}

/** The environment variable listing plugin folders. */
export const PLUGINS_ENV = 'LAGRANGE_PLUGINS';

/** Longest a plugin's `register(api)` may take; a hang must not stall every process. */
const REGISTER_TIMEOUT_MS = 30_000;

/** The user's plugin folder, `~/.lagrange/plugins` (each subfolder one plugin). */
export function userPluginsDir(): string {
  return join(homedir(), '.lagrange', 'plugins');
}

/** The plugin folders `entry` names: itself when it holds a manifest, else its subfolders that do. */
function foldersIn(entry: string): string[] {
  if (existsSync(join(entry, MANIFEST_FILE))) return [entry];
  return readdirSync(entry, { withFileTypes: true })
    .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && existsSync(join(entry, d.name, MANIFEST_FILE)))
    .map((d) => join(entry, d.name))
    .sort();
}

/** A folder found, or a path on the list that holds no plugin (reported as refused). */
type Found = { folder: string; source: PluginSource } | { folder: string; source: PluginSource; problem: string };

/** The plugin folders of `~/.lagrange/plugins` and `LAGRANGE_PLUGINS`, in that order. */
export function discoverPlugins(env: NodeJS.ProcessEnv = process.env): Found[] {
  const found: Found[] = [];
  const home = userPluginsDir();
  if (existsSync(home) && statSync(home).isDirectory()) for (const f of foldersIn(home)) found.push({ folder: f, source: 'home' });
  for (const raw of (env[PLUGINS_ENV] ?? '').split(delimiter)) {
    if (!raw.trim()) continue;
    const entry = resolve(raw);
    if (!existsSync(entry) || !statSync(entry).isDirectory()) {
      found.push({ folder: entry, source: 'env', problem: `${PLUGINS_ENV} entry ${entry}: no such folder` });
      continue;
    }
    const folders = foldersIn(entry);
    if (folders.length === 0) found.push({ folder: entry, source: 'env', problem: `${PLUGINS_ENV} entry ${entry}: no ${MANIFEST_FILE} there or in its subfolders` });
    for (const f of folders) found.push({ folder: f, source: 'env' });
  }
  return found;
}

const records: PluginRecord[] = [];
/** Real paths already handled (loaded or refused), so a folder is loaded once per process. */
const seen = new Set<string>();
let queue: Promise<void> = Promise.resolve();
/** The `LAGRANGE_PLUGINS` value of the last discovery (undefined: none yet). */
let discoveredFor: string | undefined;

const empty = (): PluginRegistrations => ({ operators: [], nodeKinds: [] });
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Rejects after `ms` unless `p` settles first. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Loads one plugin folder; never throws. */
async function loadOne(folder: string, source: PluginSource): Promise<PluginRecord> {
  const started = performance.now();
  const refuse = (name: string, reason: string, m?: PluginManifest): PluginRecord => ({
    name,
    ...(m ? { version: m.version, description: m.description } : {}),
    folder,
    source,
    status: 'refused',
    reason: `plugin '${name}': ${reason}`,
    registered: empty(),
    ms: performance.now() - started,
  });
  let m: PluginManifest;
  try {
    m = readManifest(folder);
  } catch (e) {
    return refuse(basename(folder), message(e));
  }
  const twin = records.find((r) => r.name === m.name && r.status === 'loaded');
  if (twin) return refuse(m.name, `a plugin of that name is already loaded from ${twin.folder}`, m);
  let register: unknown;
  try {
    register = ((await import(pathToFileURL(join(folder, m.entry)).href)) as { default?: unknown }).default;
  } catch (e) {
    return refuse(m.name, `could not import ${m.entry}: ${message(e)}`, m);
  }
  if (typeof register !== 'function') return refuse(m.name, `${m.entry} has no default export register(api)`, m);
  const session = createPluginApi(m.name);
  try {
    try {
      await within(Promise.resolve((register as (api: unknown) => unknown)(session.api)), REGISTER_TIMEOUT_MS, 'register(api)');
    } catch (e) {
      // The API's own refusals (a clash, a bad spec) are reasons already; anything else is the plugin's error.
      throw e instanceof PluginApiError || e instanceof OperatorError ? e : new Error(`register(api) threw: ${message(e)}`, { cause: e });
    }
    session.close();
    for (const op of session.registered.operators) {
      const failed = checkRegisteredOperator(op.id);
      if (failed) throw new Error(`operator '${op.id}' fails checkOperator: ${failed}`);
    }
  } catch (e) {
    session.rollback();
    return refuse(m.name, message(e), m);
  }
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    folder,
    source,
    status: 'loaded',
    registered: session.registered,
    ...(m.presets !== undefined ? { presetsDir: resolve(folder, m.presets) } : {}),
    ms: performance.now() - started,
  };
}

async function loadFound(found: readonly Found[]): Promise<void> {
  for (const f of found) {
    let key = f.folder;
    try {
      key = realpathSync(f.folder);
    } catch {
      // a missing entry keeps its own path as its key
    }
    if (seen.has(key)) continue;
    seen.add(key);
    if ('problem' in f) records.push({ name: basename(f.folder), folder: f.folder, source: f.source, status: 'refused', reason: f.problem, registered: empty(), ms: 0 });
    else records.push(await loadOne(f.folder, f.source));
  }
}

/**
 * Loads every plugin found (see {@link discoverPlugins}) that this process has not loaded yet.
 * Run once per process or worker before compiling a graph; calling it again loads only folders
 * added since (e.g. a `--plugin` appended to `LAGRANGE_PLUGINS`), so a plugin loads once.
 * Never throws for a plugin's problems: see {@link pluginReport}.
 */
export function loadPlugins(env: NodeJS.ProcessEnv = process.env): Promise<readonly PluginRecord[]> {
  // Hosts call this before every request: look again only when the list changed.
  const list = env[PLUGINS_ENV] ?? '';
  if (list !== discoveredFor) {
    discoveredFor = list;
    // Discovery happens inside the queue so concurrent calls see each other's `seen` folders.
    queue = queue.then(() => loadFound(discoverPlugins(env)));
  }
  return queue.then(() => pluginReport());
}

/** What each plugin folder found so far became: loaded with what it registered, or refused with why. */
export function pluginReport(): readonly PluginRecord[] {
  return records.map((r) => ({ ...r }));
}

/** Names of the plugins loaded in this process. */
export function loadedPluginNames(): string[] {
  return records.filter((r) => r.status === 'loaded').map((r) => r.name);
}

/**
 * Appends folders to `LAGRANGE_PLUGINS` (the CLI's `--plugin`), so this process and every worker
 * thread it starts afterwards (workers copy the environment) find the same plugins.
 */
export function addPluginPaths(dirs: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  if (dirs.length === 0) return;
  const current = (env[PLUGINS_ENV] ?? '').split(delimiter).filter((s) => s.trim());
  env[PLUGINS_ENV] = [...current, ...dirs.map((d) => resolve(d)).filter((d) => !current.includes(d))].join(delimiter);
}
