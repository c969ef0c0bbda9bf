/**
 * The search space of `lagrange tune`: `--param <node>.<name>=<range>` flags parsed and checked
 * against the node kind's parameter schema, and trial points drawn from a seeded, randomly
 * shifted Halton sequence (low discrepancy: a few dozen points cover 2–4 dimensions far more
 * evenly than independent draws, and the same seed gives the same trials).
 */
import { z } from 'zod';
import { nodeKind } from '../../nodes/index';
import type { ParamTable } from '../../protocol/params';
import type { GraphDocument } from '../graph/format';
import { allowedText, paramNames, paramSchema } from '../graph/set';
import { createRng } from '../tensor/rng';

/** Raised for a `--param` flag that cannot be tuned: bad syntax, unknown node or parameter, or a range the schema refuses. */
export class RangeFlagError extends Error {
  override name = 'RangeFlagError';
}

/** One tuned parameter: where it lives and the values it may take. */
export type ParamRange =
  { node: string; param: string; kind: 'linear' | 'log'; lo: number; hi: number; integer: boolean } | { node: string; param: string; kind: 'list'; values: unknown[] };

/** A trial's point: node → parameter → value (the shape of `--set` / `StudySpec.set`). */
export type TrialPoint = ParamTable;

/** Reads one list item or range end: JSON where it parses (numbers, booleans), else the text. */
function parseItem(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Whether the schema takes integers only (a zod `.int()`, seen through optional/default wrappers). */
function isInteger(schema: z.ZodType): boolean {
  const j = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { type?: string; anyOf?: { type?: string }[] };
  return j.type === 'integer' || !!j.anyOf?.some((a) => a.type === 'integer');
}

/**
 * Parses `x.lambda=0.1:10:log`, `noise.zeta=0.1:1` or `noise.eta=0,0.5,1` and checks it against
 * graph `doc`: the node exists, its kind declares the parameter, and every value the range can
 * produce (both ends of an interval, each list item) passes the parameter's schema.
 * @throws RangeFlagError naming the node, the parameter and what it allows
 */
export function parseRange(flag: string, doc: GraphDocument): ParamRange {
  const eq = flag.indexOf('=');
  const path = eq < 0 ? flag : flag.slice(0, eq);
  const dot = path.lastIndexOf('.');
  const text = eq < 0 ? '' : flag.slice(eq + 1).trim();
  if (eq < 0 || dot <= 0 || dot === path.length - 1 || !text)
    throw new RangeFlagError(`--param ${flag}: expected <node>.<param>=<lo>:<hi>[:log] or <a>,<b>,…, e.g. --param x.lambda=0.1:10:log`);
  const node = path.slice(0, dot),
    param = path.slice(dot + 1);
  const n = doc.nodes.find((m) => m.id === node);
  if (!n) throw new RangeFlagError(`--param ${flag}: graph "${doc.name}" has no node "${node}"; nodes: ${doc.nodes.map((m) => m.id).join(', ')}`);
  const kind = nodeKind(n.kind);
  if (!kind) throw new RangeFlagError(`--param ${flag}: node "${node}" has an unknown kind '${n.kind}'`);
  const schema = paramSchema(kind, param);
  if (!schema) throw new RangeFlagError(`--param ${flag}: node "${node}" (${n.kind}) has no parameter '${param}'; parameters: ${paramNames(kind).join(', ')}`);
  const refuse = (what: string): never => {
    throw new RangeFlagError(`--param ${flag}: ${what}; node "${node}" (${n.kind}) parameter '${param}' must be ${allowedText(schema)}`);
  };
  const check = (v: unknown): void => {
    if (!schema.safeParse(v).success) refuse(`${JSON.stringify(v)} is out of range`);
  };
  if (text.includes(',')) {
    const values = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(parseItem);
    if (values.length < 2) refuse('a list needs at least two values');
    values.forEach(check);
    return { node, param, kind: 'list', values };
  }
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && parts[2] !== 'log')) refuse(`'${text}' is neither lo:hi, lo:hi:log nor a list a,b,c`);
  const [lo, hi] = parts.slice(0, 2).map(Number) as [number, number];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || parts[0]!.trim() === '' || parts[1]!.trim() === '') refuse(`the ends of '${text}' must be numbers`);
  if (!(lo < hi)) refuse(`the range ${lo}:${hi} must have lo < hi`);
  const log = parts[2] === 'log';
  if (log && lo <= 0) refuse(`a log range needs lo > 0, got ${lo}`);
  const integer = isInteger(schema);
  if (integer && (!Number.isInteger(lo) || !Number.isInteger(hi))) refuse(`the ends of an integer parameter's range must be integers, got ${lo}:${hi}`);
  check(lo);
  check(hi);
  return { node, param, kind: log ? 'log' : 'linear', lo, hi, integer };
}

/** The first primes, one Halton base per dimension. */
const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];

/** The radical inverse of `i` in base `b`: the digits of i mirrored after the point. */
function radicalInverse(i: number, b: number): number {
  let f = 1,
    r = 0;
  for (let k = i; k > 0; k = Math.floor(k / b)) {
    f /= b;
    r += f * (k % b);
  }
  return r;
}

/** A unit-cube coordinate u ∈ [0, 1) mapped onto the range. */
export function valueAt(r: ParamRange, u: number): unknown {
  if (r.kind === 'list') return r.values[Math.min(r.values.length - 1, Math.floor(u * r.values.length))];
  if (r.integer && r.kind === 'linear') return Math.min(r.hi, r.lo + Math.floor(u * (r.hi - r.lo + 1)));
  const v = r.kind === 'log' ? Math.exp(Math.log(r.lo) + u * (Math.log(r.hi) - Math.log(r.lo))) : r.lo + u * (r.hi - r.lo);
  // Four significant digits: readable in tables and presets, far finer than any score difference.
  return r.integer ? Math.min(r.hi, Math.max(r.lo, Math.round(v))) : Math.min(r.hi, Math.max(r.lo, +v.toPrecision(4)));
}

/**
 * `n` trial points: Halton points 1…n with a Cranley–Patterson shift (u ← frac(u + s), s drawn
 * from `seed`), so the points depend only on (seed, ranges, n) and a longer search begins with
 * the same trials as a shorter one.
 */
export function samplePoints(ranges: readonly ParamRange[], n: number, seed: number): TrialPoint[] {
  if (ranges.length > PRIMES.length) throw new RangeFlagError(`at most ${PRIMES.length} parameters can be tuned together, got ${ranges.length}`);
  const rng = createRng(seed, 'tune/halton');
  const shift = ranges.map(() => rng.uniform());
  return Array.from({ length: n }, (_, i) => {
    const point: TrialPoint = {};
    ranges.forEach((r, d) => {
      const u = (radicalInverse(i + 1, PRIMES[d]!) + shift[d]!) % 1;
      (point[r.node] ??= {})[r.param] = valueAt(r, u);
    });
    return point;
  });
}

/** The value each tuned parameter takes in `params` (a compiled plan's effective parameters). */
export function pointOf(ranges: readonly ParamRange[], params: ParamTable): TrialPoint {
  const point: TrialPoint = {};
  for (const r of ranges) (point[r.node] ??= {})[r.param] = params[r.node]?.[r.param];
  return point;
}

/** `x.lambda=0.5 noise.zeta=0.3`: a point as text. */
export function pointText(point: TrialPoint): string {
  return Object.entries(point)
    .flatMap(([node, ps]) => Object.entries(ps).map(([p, v]) => `${node}.${p}=${typeof v === 'number' ? +v.toPrecision(4) : JSON.stringify(v)}`))
    .join(' ');
}
