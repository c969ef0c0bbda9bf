/**
 * Inspector fields from a node kind's parameter JSON Schema (what `nodes.catalog` sends: zod 4's
 * `z.toJSONSchema`, input side). Each property becomes one field — number with range and unit,
 * integer, enum as a select, boolean, string — and anything else (arrays, objects, unions) a JSON
 * text field. Pure, so the mapping is tested without a page; the engine still validates.
 */
import type { CatalogParamSchema } from '../../protocol/catalog';

/** How one parameter is edited. */
export type FieldControl = 'number' | 'integer' | 'select' | 'boolean' | 'string' | 'json';

/** One inspector field. */
export interface FieldSpec {
  name: string;
  control: FieldControl;
  /** Select choices, in the schema's order (strings, numbers or booleans). */
  options?: readonly (string | number | boolean)[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  unit?: string;
  description?: string;
  default?: unknown;
  /** The schema requires a value (no default, not optional). */
  required: boolean;
}

type Prop = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const isScalar = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

/** The choices of an `enum`, a `const`, or an `anyOf`/`oneOf` of consts; undefined when it is not a choice. */
function choices(p: Prop): (string | number | boolean)[] | undefined {
  if (Array.isArray(p.enum) && p.enum.length && p.enum.every(isScalar)) return p.enum;
  if (isScalar(p.const)) return [p.const];
  const alts = (p.anyOf ?? p.oneOf) as Prop[] | undefined;
  if (Array.isArray(alts) && alts.length) {
    const all = alts.map(choices);
    if (all.every((c) => c !== undefined)) return [...new Set(all.flat())];
  }
  return undefined;
}

function controlOf(p: Prop): FieldControl {
  if (choices(p)) return 'select';
  switch (p.type) {
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    default:
      return 'json';
  }
}

/** The field of property `name` of a parameter schema. */
export function fieldSpec(name: string, prop: Prop, required = false): FieldSpec {
  const control = controlOf(prop);
  const spec: FieldSpec = { name, control, required: required && prop.default === undefined };
  const opts = choices(prop);
  if (opts) spec.options = opts;
  if (control === 'number' || control === 'integer') {
    for (const key of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) {
      const v = num(prop[key]);
      // zod writes ±MAX_SAFE_INTEGER for an unbounded int: not a range worth showing.
      if (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER) spec[key] = v;
    }
  }
  const unit = str(prop.unit);
  if (unit) spec.unit = unit;
  const description = str(prop.description);
  if (description) spec.description = description;
  if (prop.default !== undefined) spec.default = prop.default;
  return spec;
}

/** Every field of a kind's parameter schema, in the schema's order. */
export function fieldSpecs(schema: CatalogParamSchema): FieldSpec[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, p]) => fieldSpec(name, p, required.has(name)));
}

/** The defaults the schema states, by parameter (what parsing `{}` gives the engine). */
export function schemaDefaults(schema: CatalogParamSchema): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schema.properties ?? {})
      .filter(([, p]) => p.default !== undefined)
      .map(([k, p]) => [k, p.default]),
  );
}

/** "≥ 0", "> 0, ≤ 1" … */
export function rangeText(s: Pick<FieldSpec, 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'>): string {
  const parts: string[] = [];
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  return parts.join(', ');
}

/** Why `v` does not fit the field (range, whole number), or undefined. */
export function rangeProblem(s: FieldSpec, v: number): string | undefined {
  if (!Number.isFinite(v)) return 'not a number';
  if (s.control === 'integer' && !Number.isInteger(v)) return 'must be a whole number';
  if (s.minimum !== undefined && v < s.minimum) return `must be ≥ ${s.minimum}`;
  if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return `must be > ${s.exclusiveMinimum}`;
  if (s.maximum !== undefined && v > s.maximum) return `must be ≤ ${s.maximum}`;
  if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return `must be < ${s.exclusiveMaximum}`;
  return undefined;
}

/**
 * The value a field's text stands for: a number, parsed JSON or the text itself; `undefined` for
 * an empty field (the parameter is removed). Throws a message for the user when it does not fit.
 */
export function parseFieldText(s: FieldSpec, raw: string): unknown {
  if (raw.trim() === '') return undefined;
  if (s.control === 'number' || s.control === 'integer') {
    const v = Number(raw);
    const why = rangeProblem(s, v);
    if (why) throw new Error(why);
    return v;
  }
  if (s.control === 'json') {
    try {
      return JSON.parse(raw);
    } catch (e) {
      throw new Error(`not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  return raw;
}
