/**
 * Per-run parameter values (`lagrange run --set node.param=value`): parsing the flags and checking
 * each against the node kind's schema, so a misspelt node or parameter, or a value out of range, is
 * refused with what exists and what is allowed instead of being ignored.
 */
import { z } from 'zod';
import { nodeKind } from '../../nodes/index';
import type { NodeKind } from '../../nodes/index';
import { shownValue } from '../../protocol/limits';
import type { ParamTable } from '../../protocol/params';
import type { GraphDocument } from './format';

/** Raised for a `--set` that names no node or parameter, or a value the schema refuses. */
export class SetError extends Error {
  override name = 'SetError';
}

/** The parameter names a kind declares. */
export function paramNames(kind: NodeKind): string[] {
  return kind.params instanceof z.ZodObject ? Object.keys(kind.params.shape) : [];
}

/** The schema of one parameter, or undefined when the kind has no such parameter. */
export function paramSchema(kind: NodeKind, param: string): z.ZodType | undefined {
  return kind.params instanceof z.ZodObject ? (kind.params.shape as Record<string, z.ZodType>)[param] : undefined;
}

interface JsonField {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: JsonField[];
}

/** "a number > 0", "one of gradient, prox", "an integer ≥ 1, ≤ 100": what a parameter accepts. */
export function allowedText(schema: z.ZodType): string {
  let j = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonField;
  if (j.anyOf) j = j.anyOf.find((a) => a.type !== 'null') ?? j;
  if (j.enum) return `one of ${j.enum.map(String).join(', ')}`;
  const range: string[] = [];
  if (j.exclusiveMinimum !== undefined) range.push(`> ${j.exclusiveMinimum}`);
  if (j.minimum !== undefined && j.minimum > Number.MIN_SAFE_INTEGER) range.push(`≥ ${j.minimum}`);
  if (j.exclusiveMaximum !== undefined) range.push(`< ${j.exclusiveMaximum}`);
  if (j.maximum !== undefined && j.maximum < Number.MAX_SAFE_INTEGER) range.push(`≤ ${j.maximum}`);
  const type = Array.isArray(j.type) ? j.type.join(' or ') : (j.type ?? 'a value');
  const noun = type === 'integer' ? 'an integer' : type === 'number' ? 'a number' : type === 'boolean' ? 'true or false' : type === 'string' ? 'a string' : type;
  return range.length ? `${noun} ${range.join(', ')}` : noun;
}

/** Reads a flag's value: JSON where it parses (numbers, booleans, arrays), else the text itself. */
function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * `["x.gamma0=0.001", "noise.t0=5"]` → `{ x: { gamma0: 0.001 }, noise: { t0: 5 } }`; the last of
 * repeated flags wins. Node ids may contain dots: the parameter is what follows the last dot.
 * @throws SetError for a flag that is not `node.param=value`
 */
export function parseSetFlags(flags: readonly string[]): ParamTable {
  const out: ParamTable = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const path = eq < 0 ? flag : flag.slice(0, eq);
    const dot = path.lastIndexOf('.');
    if (eq < 0 || dot <= 0 || dot === path.length - 1) throw new SetError(`--set ${flag}: expected <node>.<param>=<value>, e.g. --set x.gamma0=30`);
    (out[path.slice(0, dot)] ??= {})[path.slice(dot + 1)] = parseValue(flag.slice(eq + 1));
  }
  return out;
}

const shown = (v: unknown): string => shownValue(v, 80);

/**
 * Checks per-run values against the graph: every node exists, every parameter is declared by its
 * kind, every value passes the parameter's schema.
 * @throws SetError naming the node, the parameter and what is allowed
 */
export function checkSet(doc: GraphDocument, set: ParamTable): void {
  for (const [id, params] of Object.entries(set)) {
    const node = doc.nodes.find((n) => n.id === id);
    if (!node) throw new SetError(`--set ${id}.…: graph "${doc.name}" has no node "${id}"; nodes: ${doc.nodes.map((n) => n.id).join(', ')}`);
    const kind = nodeKind(node.kind);
    if (!kind) throw new SetError(`--set ${id}.…: node "${id}" has an unknown kind '${node.kind}'`);
    for (const [param, value] of Object.entries(params)) {
      const schema = paramSchema(kind, param);
      if (!schema) throw new SetError(`--set ${id}.${param}: node "${id}" (${node.kind}) has no parameter '${param}'; parameters: ${paramNames(kind).join(', ')}`);
      if (!schema.safeParse(value).success)
        throw new SetError(`--set ${id}.${param}=${shown(value)}: node "${id}" (${node.kind}) parameter '${param}' must be ${allowedText(schema)}`);
    }
  }
}
