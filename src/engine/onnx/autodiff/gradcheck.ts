/**
 * Checking a derived VJP against the forward model: for random directions u and cotangents v,
 * ⟨(∂f/∂x)ᵀ v, u⟩ from the VJP model against d/dε ⟨v, f(x + εu)⟩ by central differences with one
 * Richardson step, (4·D(h/2) − D(h))/3, D(h) = (φ(h) − φ(−h))/2h (truncation O(h⁴)). The networks
 * run in float32; every sum and difference here is float64, so what remains is the forward's
 * float32 rounding divided by h. Used by `lagrange models gradcheck` and the autodiff tests.
 */
import * as ort from 'onnxruntime-node';
import { createRng } from '../../tensor/rng';
import type { FwdValue } from './graph';
import type { NonFiniteSite } from './nonfinite';
import { countNonFinite, firstNonFinite } from './nonfinite';
import { readModel } from './graph';
import type { VjpModel, VjpOptions } from './vjp';
import { vjpModel } from './vjp';

/** A feed by input name: float32 or int64 values with their dims. */
export type Feed = { type: 'float32' | 'int64'; dims: readonly number[]; data: ArrayLike<number> };

/** Options of {@link gradcheck}. */
export interface GradcheckOptions extends VjpOptions {
  /** Inputs to differentiate (default: every float32 graph input). */
  wrt?: readonly string[];
  /** Fixed feeds (e.g. the timestep); other float inputs are drawn N(0, 1), int inputs are 0. */
  feeds?: Readonly<Record<string, Feed>>;
  /** Size of each symbolic dimension in the probes (default 1). */
  dims?: Readonly<Record<string, number>>;
  /** Number of random (u, v) probes (default 4). */
  probes?: number;
  /** Difference step h (default 1e-2, in the inputs' units). */
  step?: number;
  seed?: number;
}

/** One probe's numbers and the worst relative error over all probes. */
export interface GradcheckResult {
  wrt: string[];
  probes: { vjp: number; fd: number; relErr: number }[];
  worst: number;
  /** Where the first probe with a non-finite VJP got its NaN or Inf (then `worst` is NaN). */
  nonFinite?: NonFiniteSite;
}

/** A {@link Feed} as an ONNX Runtime tensor (int64 values rounded). */
export const toOrt = (f: Feed): ort.Tensor =>
  f.type === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(Array.from(f.data, (v) => BigInt(Math.round(v)))), [...f.dims])
    : new ort.Tensor('float32', Float32Array.from(f.data), [...f.dims]);

/** Runs ModelProto `bytes` on CPU once per feed set, returning every output as float64 values. */
export async function runModel(bytes: Uint8Array, feedSets: readonly Readonly<Record<string, Feed>>[]): Promise<Record<string, { dims: number[]; data: Float64Array }>[]> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const results = [];
    for (const feeds of feedSets) {
      const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, toOrt(f)])));
      results.push(Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { dims: [...t.dims], data: Float64Array.from(t.data as Float32Array) }])));
    }
    return results;
  } finally {
    await session.release();
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const concreteDims = (v: FwdValue, dims: Readonly<Record<string, number>>): number[] => v.dims.map((d) => (typeof d === 'number' ? d : (dims[d] ?? 1)));

/**
 * Derives the VJP of `model` and measures it against central differences on random probes.
 * @returns each probe's ⟨VJP, u⟩ and difference quotient, and the worst relative error |a − b|/max(|a|, |b|, ‖(∂f/∂x)ᵀv‖)
 */
export async function gradcheck(model: Uint8Array, opts: GradcheckOptions = {}): Promise<GradcheckResult & { vjp: VjpModel }> {
  const graph = readModel(model, opts.file);
  const wrt = opts.wrt ? [...opts.wrt] : graph.inputs.filter((i) => i.elemType === 1 && !opts.feeds?.[i.name]).map((i) => i.name);
  const derived = await vjpModel(model, wrt, opts);
  const rng = createRng(opts.seed ?? 0, 'gradcheck');
  const dims = opts.dims ?? {};
  const normal = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());
  const base: Record<string, Feed> = {};
  for (const v of graph.inputs) {
    const d = concreteDims(v, dims);
    const n = d.reduce((a, b) => a * b, 1);
    base[v.name] = opts.feeds?.[v.name] ?? (v.elemType === 1 ? { type: 'float32', dims: d, data: normal(n) } : { type: 'int64', dims: d, data: new Float64Array(n) });
  }
  // The output's dims from a run (declared ones may be symbolic or absent).
  const [y0] = await runModel(model, [base]);
  const outDims = y0![derived.output]!.dims;
  const h = opts.step ?? 1e-2;
  const steps = [h, -h, h / 2, -h / 2];
  const draws = Array.from({ length: opts.probes ?? 4 }, () => ({
    u: Object.fromEntries(wrt.map((w) => [w, normal(base[w]!.data.length)])),
    v: normal(outDims.reduce((a, b) => a * b, 1)),
  }));
  const shifted = (u: Record<string, Float64Array>, eps: number): Record<string, Feed> => {
    const f = { ...base };
    for (const w of wrt) f[w] = { ...base[w]!, data: Float64Array.from(base[w]!.data, (x, i) => x + eps * u[w]![i]!) };
    return f;
  };
  // One session per model: every shifted forward, then every VJP.
  const fwd = await runModel(
    model,
    draws.flatMap(({ u }) => steps.map((e) => shifted(u, e))),
  );
  const back = await runModel(
    derived.bytes,
    draws.map(({ v }) => ({ ...base, [derived.cotangent]: { type: 'float32', dims: outDims, data: v } })),
  );
  const finite = (r: (typeof back)[number]): boolean =>
    wrt.every((w) => {
      const c = countNonFinite(r[derived.grads[w]!]!.data);
      return c.nan + c.inf === 0;
    });
  const bad = back.findIndex((r) => !finite(r));
  let nonFinite: NonFiniteSite | undefined;
  if (bad >= 0) {
    const feeds: Record<string, Feed> = { ...base, [derived.cotangent]: { type: 'float32', dims: outDims, data: draws[bad]!.v } };
    nonFinite = await firstNonFinite(model, wrt, Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, toOrt(f)])), opts);
  }
  const probes = draws.map(({ u, v }, p) => {
    const phi = fwd.slice(4 * p, 4 * p + 4).map((o) => dot(v, o[derived.output]!.data));
    const d1 = (phi[0]! - phi[1]!) / (2 * h),
      d2 = (phi[2]! - phi[3]!) / h;
    const fd = (4 * d2 - d1) / 3;
    const grads = wrt.map((w) => back[p]![derived.grads[w]!]!.data);
    const a = grads.reduce((s, g, i) => s + dot(g, u[wrt[i]!]!), 0);
    // ⟨g, u⟩ for u ~ N(0, I) has standard deviation ‖g‖: the scale that a near-zero draw would hide.
    const gNorm = Math.sqrt(grads.reduce((s, g) => s + dot(g, g), 0));
    return { vjp: a, fd, relErr: Math.abs(a - fd) / Math.max(Math.abs(a), Math.abs(fd), gNorm, 1e-30) };
  });
  return { wrt, probes, worst: Math.max(...probes.map((q) => q.relErr)), vjp: derived, ...(nonFinite ? { nonFinite } : {}) };
}
