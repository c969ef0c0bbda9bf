/**
 * The graph document (`*.lagrange.json`): one iteration of a solver plus how its state starts.
 * `{ format: "lagrange-graph", version, name, description, nodes: [{ id, kind, params, position }],
 *    edges: [{ source, sourcePort, target, targetPort }], run: { iterations?, seed, backend? }, models }`.
 * Older versions are migrated on load; malformed documents are rejected with the JSON path.
 */
import { z } from 'zod';
import { groupsSchema } from '../../protocol/groups';
import { LIMITS, shownValue, tooDeep } from '../../protocol/limits';
import { BACKENDS } from '../../protocol/messages';

/** The version this build writes. */
export const GRAPH_VERSION = 1;

// Objects are strict: a misspelt field ("iteration") is an error, not silently dropped.
const name = () => z.string().min(1).max(LIMITS.name);

const nodeSchema = z.strictObject({
  id: name(),
  kind: name(),
  params: z.record(z.string(), z.unknown()).default({}),
  position: z.strictObject({ x: z.number(), y: z.number() }).optional(),
  label: z.string().max(LIMITS.name).optional(),
  /**
   * The plugin that declares the node's kind (`lagrange.plugin.json` name), so a graph opened
   * without that plugin can say which one to install. Absent for built-in kinds.
   */
  plugin: z
    .string()
    .regex(/^[a-z0-9][\w.-]*$/i)
    .max(LIMITS.name)
    .optional(),
});

const edgeSchema = z.strictObject({
  source: name(),
  sourcePort: name(),
  target: name(),
  targetPort: name(),
});

/** node id → parameter → value. */
const paramTable = z.record(z.string(), z.record(z.string(), z.unknown()));
/** `task:<id>` / `profile:<name>` → parameter table. */
const overridesSchema = z.record(z.string().regex(/^(task|profile):[\w-]+$/), paramTable);

/** Schema of a current-version graph document. */
export const graphSchema = z.strictObject({
  format: z.literal('lagrange-graph'),
  version: z.literal(GRAPH_VERSION),
  name: z.string().min(1).max(LIMITS.name),
  description: z.string().max(100_000).default(''),
  nodes: z.array(nodeSchema).max(LIMITS.nodes),
  edges: z.array(edgeSchema).max(LIMITS.edges),
  run: z
    .strictObject({
      iterations: z.number().int().min(1).max(LIMITS.iterations).optional(),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31)
        .default(0),
      /**
       * Where the iterations compute: 'js' (the runtime's executors) or 'onnx' (`onnx/backend.ts`).
       * No default, so documents that never chose one keep their bytes and hash; absent means js.
       */
      backend: z.enum(BACKENDS).optional(),
      /** The `profile:<name>` overrides this run applies (e.g. DAPS's 4k); absent means none. */
      profile: z
        .string()
        .regex(/^[\w-]+$/)
        .optional(),
    })
    .default({ seed: 0 }),
  models: z.record(z.string(), z.unknown()).default({}),
  /**
   * Parameter overrides by selector — `task:<id>` applies when the measurement's task is <id>,
   * `profile:<name>` when the run asks for that profile — each mapping node id → params.
   * Presets keep the papers' per-task hyperparameters here.
   */
  overrides: overridesSchema.default({}),
  /**
   * Reference values the studio compares the running parameters with, by label (`paper`: the
   * published values; `tuned`: a retuning, with where it was measured). Each holds overrides of the
   * same shape plus `base` (node parameters for every task). Never applied to a run. Optional, so
   * documents without references keep their bytes and hash.
   */
  reference: z
    .record(
      z.string().regex(/^[\w-]+$/),
      z.strictObject({ note: z.string().default(''), overrides: z.record(z.string().regex(/^(base|task:[\w-]+|profile:[\w-]+)$/), paramTable) }),
    )
    .optional(),
  /** Titled frames around nodes for the studio (`protocol/groups.ts`); the engine ignores them. Optional, so documents without keep their bytes. */
  groups: groupsSchema.optional(),
});

/** A validated graph document. */
export type GraphDocument = z.infer<typeof graphSchema>;
export type GraphNode = GraphDocument['nodes'][number];
export type GraphEdge = GraphDocument['edges'][number];

/** One migration step: a version-v document (as plain JSON) to version v + 1. */
export type Migration = (doc: Record<string, unknown>) => Record<string, unknown>;

/** Migrations by the version they upgrade from. Empty until version 2 exists. */
export const MIGRATIONS: Readonly<Record<number, Migration>> = {};

/** Raised for documents that cannot be read; `issues` holds every problem with its path. */
export class GraphFormatError extends Error {
  override name = 'GraphFormatError';
  constructor(
    readonly issues: readonly string[],
    source?: string,
  ) {
    super(`${source ? `${source}: ` : ''}${issues.join('; ')}`);
  }
}

/** `nodes[3].params.steps` from a path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(root)';
}

/** The value at `path` in `doc`, for "got …" in messages. */
function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** The field names the object schema at `path` (inside `schema`) declares; [] where none is known. */
function fieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = schema;
  const unwrap = (t: z.ZodType): z.ZodType => (t instanceof z.ZodDefault || t instanceof z.ZodOptional ? unwrap(t.unwrap() as z.ZodType) : t);
  for (const k of path) {
    if (!at) return [];
    const t: z.ZodType = unwrap(at);
    at =
      t instanceof z.ZodObject
        ? (t.shape as Record<string, z.ZodType>)[String(k)]
        : t instanceof z.ZodArray
          ? (t.element as z.ZodType)
          : t instanceof z.ZodRecord
            ? (t.valueType as z.ZodType)
            : undefined;
  }
  const t = at && unwrap(at);
  return t instanceof z.ZodObject ? Object.keys(t.shape) : [];
}

/** `path: message, got value` lines for a zod error over `doc`. */
export function describeIssues(doc: unknown, issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = [], schema: z.ZodType = graphSchema): string[] {
  return issues.map((i) => {
    const full = [...prefix, ...i.path];
    if (i.code === 'unrecognized_keys') {
      const known = fieldsAt(schema, i.path);
      const at = formatPath(full);
      return `${at === '(root)' ? '' : `${at}.`}${i.keys.join(', ')}: unknown field${i.keys.length > 1 ? 's' : ''}${known.length ? `; fields here: ${known.join(', ')}` : ''}`;
    }
    const got = valueAt(doc, i.path);
    // A missing field: say so plainly instead of "expected string, received undefined, got nothing".
    const expected = /^Invalid input: expected (\w+), received undefined$/.exec(i.message);
    if (got === undefined && expected) return `${formatPath(full)}: missing; expected ${/^[aeiou]/.test(expected[1]!) ? 'an' : 'a'} ${expected[1]}`;
    const shown = got === undefined ? 'nothing' : shownValue(got);
    return `${formatPath(full)}: ${i.message}, got ${shown}`;
  });
}

/**
 * Applies the migration steps from version `from` up to `to` (each step's result gets version + 1).
 * @throws GraphFormatError for a document newer than `to` or a missing step
 */
export function migrateDocument(doc: Record<string, unknown>, from: number, to: number, migrations: Readonly<Record<number, Migration>>, source?: string): Record<string, unknown> {
  if (from > to) {
    throw new GraphFormatError([`version: this graph is version ${from}, made by a newer Lagrange Studio; this one reads up to version ${to}`], source);
  }
  let out = doc;
  for (let v = from; v < to; v++) {
    const step = migrations[v];
    if (!step) throw new GraphFormatError([`version: no migration from version ${v}`], source);
    out = { ...step(out), version: v + 1 };
  }
  return out;
}

/**
 * Parses a graph document (already JSON-decoded): checks the format tag, migrates older versions
 * step by step, then validates the structure.
 * @param source - file name for messages
 */
export function parseGraph(json: unknown, source?: string, migrations: Readonly<Record<number, Migration>> = MIGRATIONS): GraphDocument {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new GraphFormatError(['(root): expected a JSON object'], source);
  let doc = json as Record<string, unknown>;
  if (doc.format !== 'lagrange-graph') throw new GraphFormatError([`format: expected "lagrange-graph", got ${shownValue(doc.format)}`], source);
  const deep = tooDeep(json);
  if (deep) throw new GraphFormatError([`${deep}: nested more than ${LIMITS.depth} levels deep; a graph document needs 6`], source);
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new GraphFormatError([`version: expected a positive integer, got ${shownValue(version)}`], source);
  }
  doc = migrateDocument(doc, version, GRAPH_VERSION, migrations, source);
  const parsed = graphSchema.safeParse(doc);
  if (!parsed.success) throw new GraphFormatError(describeIssues(doc, parsed.error.issues), source);
  return parsed.data;
}
