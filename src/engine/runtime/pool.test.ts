import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import type { GraphDocument } from '../graph/format';
import { parseGraph } from '../graph/format';
import { BufferPool } from '../tensor/pool';
import { tensor } from '../tensor/tensor';
import type { RunEvent } from './events';
import { liveness } from './liveness';
import type { RunOptions } from './run';
import { runPlan } from './run';

const PRESETS = ['ddiff', 'ddiff-hqs', 'diff-pnp-admm', 'diff-pnp-hqs', 'diffpir', 'dps', 'daps'];

/** A preset with the analytic Gaussian prior (no network: fast, and every buffer is the engine's). */
function preset(name: string, opts: { sinks?: boolean } = {}): GraphDocument {
  const doc = parseGraph(JSON.parse(readFileSync(new URL(`../../../resources/presets/${name}.lagrange.json`, import.meta.url), 'utf8')));
  const nodes = doc.nodes.map((n) => (n.kind === 'ScoreModel' ? { ...n, params: { source: 'gaussian' } } : n));
  if (opts.sinks !== false) return { ...doc, nodes };
  // Without previews and metrics, values die inside the body and are reused within the iteration.
  const gone = new Set(nodes.filter((n) => n.kind === 'Preview' || n.kind === 'Metrics').map((n) => n.id));
  return { ...doc, nodes: nodes.filter((n) => !gone.has(n.id)), edges: doc.edges.filter((e) => !gone.has(e.target)) };
}

/** The result, every metrics event and every preview frame of a run. */
async function trace(name: string, sinks: boolean, opts: RunOptions): Promise<{ result: number[]; events: unknown[] }> {
  const plan = await compile(preset(name, { sinks }), { iterations: 6, samples: 2 });
  const events: unknown[] = [];
  const keep = (e: RunEvent): void => {
    if (e.type === 'metrics') events.push(e);
    if (e.type === 'preview') events.push({ ...e, rgba: Array.from(e.rgba) });
  };
  const r = await runPlan(plan, { throttleMs: 0, onEvent: keep, ...opts });
  return { result: Array.from(r.result!.data), events };
}

describe('BufferPool', () => {
  it('recycles released buffers by size, for any shape', () => {
    const pool = new BufferPool();
    const a = pool.alloc([2, 3]);
    expect(pool.release(a)).toBe(true);
    const b = pool.alloc([3, 2]);
    expect(b.data).toBe(a.data);
    expect(b.shape).toEqual([3, 2]);
    expect(pool.alloc([6]).data).not.toBe(a.data); // b still holds it
    expect(pool.stats).toEqual({ allocated: 2, reused: 1, released: 1 });
  });

  it('ignores foreign tensors, views, second releases and forgotten buffers', () => {
    const pool = new BufferPool();
    expect(pool.release(tensor([4]))).toBe(false);
    const a = pool.alloc([4]);
    expect(pool.release({ shape: [2], data: a.data.subarray(0, 2) })).toBe(false);
    expect(pool.release(a)).toBe(true);
    expect(pool.release(a)).toBe(false); // two later allocations must never share it
    expect(pool.size).toBe(1);
    const b = pool.alloc([4]);
    pool.forget(b);
    expect(pool.release(b)).toBe(false);
  });

  it('poisons released buffers on request, so stale reads show up as NaN', () => {
    const pool = new BufferPool({ poison: true });
    const a = pool.alloc([3]);
    a.data.fill(1);
    pool.release(a);
    expect(Array.from(pool.alloc([3]).data).every(Number.isNaN)).toBe(true);
  });
});

describe('liveness', () => {
  it('kills DDiff values after their last reader; sinks and registers after the body', async () => {
    const plan = await compile(preset('ddiff', { sinks: false }), { iterations: 3 });
    const live = liveness(plan);
    // body: z (Denoise), x (XUpdate), noise (ZUpdate), dual (DualUpdate); noise.xt and dual.u are carried
    expect(live.dieAfter.map((keys) => [...keys].sort())).toEqual([[], [], ['xt.current'], ['u.current', 'z.x0'], ['x.x']]);
    expect([...live.carried].sort()).toEqual(['dual.u', 'noise.xt']);
    expect(live.read.has('z.eps')).toBe(false); // dies as soon as Denoise has run
  });
});

describe('runPlan with a buffer pool', () => {
  it.each(PRESETS)('%s: results, metrics and previews are bit-identical with and without the pool', async (name) => {
    for (const sinks of [true, false]) {
      const fresh = await trace(name, sinks, { pool: false });
      const pooled = await trace(name, sinks, { pool: new BufferPool({ poison: true }) });
      expect(pooled.result).toEqual(fresh.result);
      expect(pooled.events).toEqual(fresh.events);
    }
  });

  it.each(PRESETS)('%s: allocates no buffer after the first iteration', async (name) => {
    const plan = await compile(preset(name), { iterations: 8, samples: 2 });
    const pool = new BufferPool();
    const perIteration: number[] = [];
    let before = 0;
    const onEvent = (e: RunEvent): void => {
      if (e.type !== 'progress') return;
      perIteration.push(pool.stats.allocated - before);
      before = pool.stats.allocated;
    };
    await runPlan(plan, { pool, throttleMs: 0, onEvent });
    expect(perIteration).toHaveLength(8);
    expect(perIteration[0]).toBeGreaterThan(0);
    expect(perIteration.slice(1)).toEqual(Array(7).fill(0));
    expect(pool.stats.reused).toBeGreaterThanOrEqual(7 * plan.body.length); // every output (at least) comes back
  });

  it('never overwrites a snapshot: resuming with the same pool gives the uninterrupted result', async () => {
    const plan = await compile(preset('ddiff'), { iterations: 12, samples: 2 });
    const whole = await runPlan(plan, { pool: false });
    const pool = new BufferPool({ poison: true });
    const first = await runPlan(plan, { pool, stopAt: 5 });
    const saved = Object.fromEntries(Object.entries(first.snapshot!.states).map(([k, t]) => [k, Array.from(t.data)]));
    const rest = await runPlan(plan, { pool, resume: first.snapshot! });
    expect(Array.from(rest.result!.data)).toEqual(Array.from(whole.result!.data));
    for (const [k, t] of Object.entries(first.snapshot!.states)) expect(Array.from(t.data)).toEqual(saved[k]);
  });

  it("keeps a cancelled run's snapshot intact and resumable", async () => {
    const plan = await compile(preset('daps'), { iterations: 6 });
    const whole = await runPlan(plan, { pool: false });
    const ctl = new AbortController();
    const cut = await runPlan(plan, { signal: ctl.signal, throttleMs: 0, onEvent: (e) => e.type === 'progress' && e.iteration === 3 && ctl.abort() });
    expect(cut.status).toBe('cancelled');
    const rest = await runPlan(plan, { resume: cut.snapshot! });
    expect(Array.from(rest.result!.data)).toEqual(Array.from(whole.result!.data));
  });
});
