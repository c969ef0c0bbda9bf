/**
 * Graph documents mutated at random (fast-check, seeded), then parsed, validated, compiled and
 * run for two iterations: every case must either work or fail with one of the engine's own errors
 * (a message naming what is wrong, at most a few hundred characters), never a crash (RangeError,
 * TypeError, stack overflow) and never a hang. FUZZ_RUNS sets the number of cases (CI runs 1500;
 * `FUZZ_RUNS=12000 npx vitest run tests/fuzz.graphs.test.ts` is the full probe).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { validateGraph } from '../src/engine/graph/validate';
import { runPlan } from '../src/engine/runtime/run';
import { LIMITS } from '../src/protocol/limits';

const PRESETS = join(import.meta.dirname, '../resources/presets');
const seeds: Record<string, unknown>[] = readdirSync(PRESETS)
  .filter((f) => f.endsWith('.lagrange.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(PRESETS, f), 'utf8')) as Record<string, unknown>);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
/** What the engine raises for a document it refuses; anything else is a crash. */
const ENGINE_ERRORS = new Set([
  'GraphFormatError',
  'CompileError',
  'ScheduleError',
  'OperatorError',
  'ImageError',
  'NpyError',
  'ModelError',
  'ModelCardError',
  'MeasurementError',
  'ShapeError',
  'SetError',
  'RunError',
]);

type Json = unknown;
type Path = (string | number)[];

/** Every path in `doc` to an object, array or leaf (iterative: mutated documents may be deep). */
function paths(doc: Json): Path[] {
  const out: Path[] = [];
  const stack: { v: Json; p: Path }[] = [{ v: doc, p: [] }];
  while (stack.length && out.length < 5000) {
    const { v, p } = stack.pop()!;
    out.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, p: [...p, i] }));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) stack.push({ v: x, p: [...p, k] });
  }
  return out;
}

function parentOf(doc: Json, p: Path): Record<string | number, Json> | undefined {
  let v = doc as Record<string | number, Json> | undefined;
  for (const k of p.slice(0, -1)) v = v && typeof v === 'object' ? (v[k] as Record<string | number, Json>) : undefined;
  return v && typeof v === 'object' ? v : undefined;
}

/** Values that have broken parsers and kernels: extremes, wrong types, long and deep values. */
const nasty = fc.oneof(
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 31), 1e308, -1e308, 5e-324, 0.5, 1e9, 3, 7, 1000, 100_001),
  fc.constantFrom('', ' ', '-1', 'NaN', '__proto__', 'constructor', '../../etc/passwd', 'x'.repeat(100_000), '\u0000', 'Infinity'),
  fc.constantFrom(null, true, false, [], {}, [[[[]]]], { __proto__: { polluted: 1 } }),
  fc.integer({ min: 40, max: 2000 }).map((depth) => {
    let v: Json = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }),
  fc.jsonValue({ maxDepth: 3 }),
);

type Mutation =
  | { op: 'set'; at: number; value: Json }
  | { op: 'delete'; at: number }
  | { op: 'rename'; at: number; key: string }
  | { op: 'duplicate'; at: number }
  | { op: 'rewire'; edge: number; end: 'source' | 'target' | 'sourcePort' | 'targetPort'; node: number; port: string }
  | { op: 'swapKind'; node: number; kind: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: nasty }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('rename' as const), at: fc.nat(), key: fc.constantFrom('iteration', 'paramz', 'gamma', 'id', 'kind', '__proto__', 'x') }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('rewire' as const),
    edge: fc.nat(),
    end: fc.constantFrom('source' as const, 'target' as const, 'sourcePort' as const, 'targetPort' as const),
    node: fc.nat(),
    port: fc.constantFrom('x', 'z', 'u', 'next', 'image', 'prior', 'operator', 'measurement', 'schedule', 'x0', 'bogus'),
  }),
  fc.record({
    op: fc.constant('swapKind' as const),
    node: fc.nat(),
    kind: fc.constantFrom('State', 'Denoise', 'XUpdate', 'Preview', 'Output', 'Result', 'Schedule', 'ScoreModel', 'Simulate', 'PhaseRetrieval', 'Nope'),
  }),
);

function apply(doc: Record<string, Json>, m: Mutation): void {
  const nodes = doc.nodes as Record<string, Json>[] | undefined;
  const edges = doc.edges as Record<string, Json>[] | undefined;
  if (m.op === 'rewire') {
    if (!Array.isArray(edges) || !edges.length || !Array.isArray(nodes) || !nodes.length) return;
    const e = edges[m.edge % edges.length]!;
    if (e && typeof e === 'object') e[m.end] = m.end.endsWith('Port') ? m.port : (nodes[m.node % nodes.length] as { id?: Json })?.id;
    return;
  }
  if (m.op === 'swapKind') {
    if (!Array.isArray(nodes) || !nodes.length) return;
    const n = nodes[m.node % nodes.length];
    if (n && typeof n === 'object') n.kind = m.kind;
    return;
  }
  const all = paths(doc).filter((p) => p.length > 0);
  if (!all.length) return;
  const p = all[m.at % all.length]!;
  const parent = parentOf(doc, p);
  if (!parent) return;
  const k = p[p.length - 1]!;
  if (m.op === 'set') parent[k] = m.value;
  else if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(k), 1);
    else delete parent[k];
  } else if (m.op === 'rename') {
    if (Array.isArray(parent)) return;
    parent[m.key] = parent[k];
    delete parent[k];
  } else if (Array.isArray(parent)) parent.push(structuredClone(parent[k]));
}

/** Parse, validate, compile (2 iterations, analytic prior where the seed's network would be slow) and run one case. */
async function exercise(doc: Json): Promise<string> {
  let g;
  try {
    g = parseGraph(doc, 'fuzz.lagrange.json');
  } catch (e) {
    return refused(e);
  }
  const v = validateGraph(g);
  if (!v.ok) {
    for (const issue of v.errors) expect(issue.message.length).toBeLessThan(4000);
    return 'invalid';
  }
  try {
    const plan = await compile(g, { iterations: Math.min(2, g.run.iterations ?? 2) });
    await runPlan(plan, { throttleMs: 0 });
    return 'ran';
  } catch (e) {
    return refused(e);
  }
}

function refused(e: unknown): string {
  const err = e as Error;
  if (!ENGINE_ERRORS.has(err?.name)) throw new Error(`crash: ${err?.name}: ${String(err?.message).slice(0, 300)}\n${err?.stack?.split('\n').slice(1, 6).join('\n')}`);
  expect(err.message.length).toBeLessThan(4000);
  return err.name;
}

describe('mutated graph documents', () => {
  it(`${RUNS} cases: each works or is refused with an engine error, within 5 s`, async () => {
    const outcomes = new Map<string, number>();
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, muts) => {
        const doc = structuredClone(seeds[which]!);
        for (const m of muts) apply(doc, m);
        const t0 = performance.now();
        const outcome = await exercise(doc);
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        expect(ms, `case took ${ms.toFixed(0)} ms`).toBeLessThan(5000);
      }),
      { numRuns: RUNS, seed: 20261203, endOnFailure: true },
    );
    console.log(`fuzz: ${RUNS} cases, slowest ${slowest.toFixed(0)} ms`, Object.fromEntries(outcomes));
    // The mutations reach every stage: some documents run, some fail each kind of check.
    expect(outcomes.get('ran') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('GraphFormatError') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('invalid') ?? 0).toBeGreaterThan(0);
  }, 600_000);
});

describe('graphs at and past the size limits', () => {
  const base = seeds.find((d) => d.name === 'ddiff') ?? seeds[0]!;
  const previewChain = (n: number): Record<string, Json> => {
    // A chain of n Result nodes ending at an Output: deep for any recursive walk.
    const doc = structuredClone(base) as { nodes: Record<string, Json>[]; edges: Record<string, Json>[] } & Record<string, Json>;
    const x = (doc.edges.find((e) => e.targetPort === 'next') as { source: string; sourcePort: string }) ?? { source: 'x', sourcePort: 'x' };
    for (let i = 0; i < n; i++) {
      doc.nodes.push({ id: `r${i}`, kind: 'Result', params: { returns: 'x' } });
      doc.edges.push({ source: i === 0 ? x.source : `r${i - 1}`, sourcePort: i === 0 ? x.sourcePort : 'image', target: `r${i}`, targetPort: 'x' });
    }
    return doc;
  };

  it('a 1,990-node chain validates in well under a second (iterative walks); 6,000 nodes are refused by count', () => {
    const t0 = performance.now();
    const ok = parseGraph(previewChain(LIMITS.nodes - 30));
    validateGraph(ok);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(() => parseGraph(previewChain(6000))).toThrow(/nodes: Too big: expected array to have <=2000 items/);
  });

  it('a 10,000-way fan-out validates in well under a second', () => {
    const doc = structuredClone(base) as { nodes: Record<string, Json>[]; edges: Record<string, Json>[] } & Record<string, Json>;
    const from = doc.edges.find((e) => e.targetPort === 'next') as { source: string; sourcePort: string };
    doc.edges.push(
      ...Array.from({ length: LIMITS.edges - doc.edges.length }, (_, i) => ({ source: from.source, sourcePort: from.sourcePort, target: `p${i % 1900}`, targetPort: 'image' })),
    );
    doc.nodes.push(...Array.from({ length: 1900 }, (_, i) => ({ id: `p${i}`, kind: 'Preview', params: {} })));
    const t0 = performance.now();
    const v = validateGraph(parseGraph(doc));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(v.ok).toBe(false); // most previews have several edges into 'image'
    expect(v.errors[0]!.message).toMatch(/input 'image' has more than one incoming edge/);
  });

  it('a document nested 100,000 levels deep is refused at the path, not by a stack overflow', () => {
    let deep: Json = 0;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const doc = { ...structuredClone(base), models: { deep } };
    expect(() => parseGraph(doc, 'deep.json')).toThrow(/deep\.json: models\.deep(\.a)+: nested more than 32 levels deep/);
  });

  it('2³¹ iterations, a misspelt run field and a 10 MB value are refused, the value shown cut short', () => {
    const run = base.run as Record<string, Json>;
    expect(() => parseGraph({ ...base, run: { ...run, iterations: 2 ** 31 } })).toThrow(/run\.iterations: Too big: expected number to be <=100000/);
    expect(() => parseGraph({ ...base, run: { ...run, iteration: 5 } })).toThrow(/run\.iteration: unknown field; fields here: iterations, seed, backend, profile/);
    try {
      parseGraph({ ...base, name: 'n'.repeat(10_000_000) });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/name: Too big: expected string to have <=200 characters, got "n{119}… \(10000002 characters\)/);
      expect((e as Error).message.length).toBeLessThan(400);
    }
  });
});
