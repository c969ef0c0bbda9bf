/**
 * Shared by the autodiff rule tests: a VJP rule checked against central differences (gradcheck:
 * float64 sums, one Richardson step) as a fast-check property over random shapes and attributes;
 * each case is a small model built with GraphBuilder, run forward and derived in onnxruntime-node
 * on CPU. `AUTODIFF_REPORT=1` prints the worst error per op.
 */
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import type { AttrValue, Dim } from '../src/engine/onnx/builder';
import { GraphBuilder } from '../src/engine/onnx/builder';
import type { Feed } from '../src/engine/onnx/autodiff';
import { gradcheck } from '../src/engine/onnx/autodiff';

/** A test model: bytes, inputs to differentiate, fixed feeds (inputs drawn away from kinks), step. */
export interface Case {
  model: Uint8Array;
  wrt: string[];
  feeds?: Record<string, Feed>;
  step?: number;
}

const RUNS = 8;
const TOL = 1e-3;
const worst = new Map<string, number>();
/** Call once per test file: prints the worst errors when AUTODIFF_REPORT is set. */
export const reportWorst = (): void => afterAll(() => void (process.env.AUTODIFF_REPORT && console.table(Object.fromEntries([...worst].map(([k, v]) => [k, v.toExponential(2)])))));

const size = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
/** Seeded values with |x| in [lo, lo + 1), sign kept unless `positive`. */
export const away = (dims: number[], lo: number, seed: number, positive = false): Feed => {
  let s = seed >>> 0 || 1;
  const next = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  return { type: 'float32', dims, data: Float32Array.from({ length: size(dims) }, () => (lo + next()) * (positive || next() < 0.5 ? 1 : -1)) };
};

/** y = op(inputs…) with the given attributes and extra constant inputs. */
export function opModel(
  op: string,
  ins: { name: string; dims: number[] }[],
  attrs: Record<string, AttrValue>,
  outDims: Dim[],
  consts: (g: GraphBuilder) => string[] = () => [],
): Uint8Array {
  const g = new GraphBuilder(`test.${op}`);
  const names = ins.map((i) => g.input(i.name, i.dims));
  g.output(g.node(op, [...names, ...consts(g)], attrs), 'y', outDims);
  return g.toBytes();
}

async function check(op: string, c: Case): Promise<void> {
  const r = await gradcheck(c.model, { wrt: c.wrt, feeds: c.feeds, step: c.step, probes: 2, seed: 7, file: op });
  worst.set(op, Math.max(worst.get(op) ?? 0, r.worst));
  expect(r.worst, `${op}: ${JSON.stringify(r.probes)}`).toBeLessThan(TOL);
}

/** Registers one property test of `op`'s rule over the cases `arb` draws. */
export const property = (op: string, arb: fc.Arbitrary<Case>): void =>
  it(`${op}: VJP matches central differences`, async () => {
    await fc.assert(
      fc.asyncProperty(arb, (c) => check(op, c)),
      { numRuns: RUNS, seed: 42 },
    );
  });

export const dims = (rank: [number, number], max = 4): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max }), { minLength: rank[0], maxLength: rank[1] });
/** An output shape and a shape broadcasting to it (a suffix, some dims set to 1). */
export const broadcastPair = dims([1, 4]).chain((out) =>
  fc.tuple(fc.constant(out), fc.integer({ min: 0, max: out.length - 1 }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })).map(([o, drop, ones]) => ({
    out: o,
    b: o.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
  })),
);
export const seed = fc.integer({ min: 1, max: 1 << 30 });

/** Output dims of rank `r`, all symbolic (the checks read the real ones from a run). */
export const sym = (r: number): string[] => Array.from({ length: r }, (_, i) => `o${i}`);
