/**
 * Noise drawn ahead in worker threads (noise.ts) against noise drawn in place and against the JS
 * runtime: the fused iteration of DDiff, DiffPIR and DPS (ZUpdate's three draw patterns) and DAPS
 * (Langevin chain, fresh Noising) with the analytic Gaussian prior gives bit-identical results with
 * and without prefetching, and Diff-PnP-ADMM (Noising without noise) starts no thread; pauses,
 * cancels and reruns on one backend reuse or drop what was drawn ahead; a failed thread leaves the
 * noise to be drawn in place; the threads end with the backend. `ONNX_BACKEND_REPORT=1` prints the
 * errors and wall times.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import type { Plan } from '../compile/plan';
import { withMeasurement, withPrior } from '../graph/edit';
import { parseGraph } from '../graph/format';
import { runPlan } from '../runtime/run';
import type { RunOptions } from '../runtime/run';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { norm, sub } from '../tensor/tensor';
import { prepareBackend } from '../runtime/backend';
import type { PreparedBackend } from '../runtime/backend';
import { drawNoise, NoisePrefetcher, noiseThreads } from './noise';

const plan = (name: string, iterations: number): Promise<Plan> => {
  const file = new URL(`../../../resources/presets/${name}.lagrange.json`, import.meta.url);
  const doc = withPrior(parseGraph(JSON.parse(readFileSync(file, 'utf8'))), 'gaussian', false);
  return compile(withMeasurement(doc, { kind: 'simulate', task: 'inpaint-box', image: 'sample:astronaut', size: 16 }), { iterations, samples: 2, seed: 11 });
};

const same = (a: Tensor, b: Tensor): boolean => a.data.length === b.data.length && a.data.every((v, i) => Object.is(v, b.data[i]));
const rel = (a: Tensor, b: Tensor): number => norm(sub(a, b)) / norm(b);

/** Runs `fn` with a prefetching backend (`threads` noise workers) and checks that its threads end with it. */
async function withPrefetch<T>(p: Plan, fn: (b: PreparedBackend, prefetcher: NoisePrefetcher) => Promise<T>, threads = 1): Promise<T> {
  const b = await prepareBackend(p, 'onnx', { prefetchNoise: threads });
  const prefetcher = b.prefetcher;
  expect(b.step.form).toBe('fused');
  expect(b.summary).toContain(`noise drawn ahead in ${threads} worker thread`);
  expect(prefetcher?.threads).toBe(threads);
  try {
    return await fn(b, prefetcher!);
  } finally {
    await b.release();
    expect(prefetcher!.closed).toBe(true);
    expect(prefetcher!.threads).toBe(0); // the thread has exited, not just been let go
  }
}

const rows: Record<string, { onVsOff: string; vsJs: number; jsMs: number; offMs: number; onMs: number; served: number }> = {};
afterAll(() => {
  if (process.env.ONNX_BACKEND_REPORT) console.table(rows);
});

describe('noise drawn ahead in a worker thread', () => {
  it.each([
    ['ddiff', 8], // ZUpdate: n and n′ in pairs, then zeros for t ≤ t₀
    ['diffpir', 8], // ZUpdate with η = 0: n′ alone
    ['dps', 8], // ZUpdate with ζ = 0: n alone
    ['daps', 3], // a [K, N, C, H, W] Langevin field; fresh re-noising to the next level, zeros at σ = 0
  ] as const)('%s: fused with prefetch equals fused without, bit for bit, and the JS runtime', async (name, iterations) => {
    const p = await plan(name, iterations);
    const js = await runPlan(p);
    const off = await prepareBackend(p, 'onnx', { prefetchNoise: false });
    expect(off.summary).toContain('noise drawn in place');
    const plain = await runPlan(p, { backend: off }).finally(() => off.release());
    await withPrefetch(p, async (b, prefetcher) => {
      const ahead = await runPlan(p, { backend: b });
      expect(ahead.status).toBe('done');
      expect(same(ahead.result!, plain.result!)).toBe(true);
      expect(rel(ahead.result!, js.result!)).toBeLessThan(1e-5);
      expect(prefetcher.served).toBe(iterations - 1); // every iteration but the first came from the worker
      expect(prefetcher.failure).toBeUndefined();
      rows[name] = {
        onVsOff: 'identical',
        vsJs: rel(ahead.result!, js.result!),
        jsMs: js.report.wallMs,
        offMs: plain.report.wallMs,
        onMs: ahead.report.wallMs,
        served: prefetcher.served,
      };
    });
  });

  it('diff-pnp-admm (a Noising step without fresh noise) draws nothing and starts no thread', async () => {
    const p = await plan('diff-pnp-admm', 8);
    const js = await runPlan(p);
    const b = await prepareBackend(p, 'onnx', { prefetchNoise: true });
    try {
      expect(b.step.form).toBe('fused');
      expect(b.summary).toContain('no noise to draw');
      expect(b.prefetcher).toBeUndefined();
      expect(rel((await runPlan(p, { backend: b })).result!, js.result!)).toBeLessThan(1e-5);
    } finally {
      await b.release();
    }
  });

  it('pause and resume, a cancelled run and a rerun on one backend equal an uninterrupted run', async () => {
    const p = await plan('ddiff', 10);
    await withPrefetch(p, async (b, prefetcher) => {
      const whole = await runPlan(p, { backend: b });
      const paused = await runPlan(p, { backend: b, stopAt: 4 }); // leaves iterations 4 and 5 drawn ahead
      expect(paused.status).toBe('paused');
      const resumed = await runPlan(p, { backend: b, resume: paused.snapshot! });
      expect(same(resumed.result!, whole.result!)).toBe(true);
      // Cancelled after iteration 2: what it drew ahead is dropped when the next run starts over at 0.
      const ac = new AbortController();
      const opts: RunOptions = { backend: b, signal: ac.signal, throttleMs: 0, onEvent: (e) => e.type === 'progress' && e.iteration === 3 && ac.abort() };
      expect((await runPlan(p, opts)).status).toBe('cancelled');
      const again = await runPlan(p, { backend: b });
      expect(same(again.result!, whole.result!)).toBe(true);
      // 9 + 3 + 6 (iterations 4 and 5 drawn by the paused run) + 2 + 9: all but each run's first
      expect(prefetcher.served).toBe(29);
    });
  });

  it('two threads take alternate iterations; a thread that dies mid-run leaves the rest to be drawn in place, same numbers', async () => {
    const p = await plan('ddiff', 10);
    const off = await prepareBackend(p, 'onnx', { prefetchNoise: false });
    const plain = await runPlan(p, { backend: off }).finally(() => off.release());
    await withPrefetch(
      p,
      async (b, prefetcher) => {
        expect(same((await runPlan(p, { backend: b })).result!, plain.result!)).toBe(true);
        expect(prefetcher.served).toBe(9);
        const workers = (prefetcher as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
        const onEvent: RunOptions['onEvent'] = (e) => void (e.type === 'progress' && e.iteration === 3 && workers[1]!.terminate());
        const hurt = await runPlan(p, { backend: b, throttleMs: 0, onEvent });
        expect(same(hurt.result!, plain.result!)).toBe(true);
        expect(prefetcher.failure).toMatch(/a noise worker exited/);
        expect(hurt.report.warnings.join('\n')).toMatch(/noise drawn in place from now on \(a noise worker exited/);
        expect(prefetcher.threads).toBe(1);
      },
      2,
    );
    expect(await NoisePrefetcher.start(1, 1, { timeoutMs: 1 })).toMatch(/^noise worker did not start: did not start within 1 ms/);
  });

  it('draws what the requests say: the same numbers in a worker, in place and from the stream', async () => {
    const shape = [2, 3, 4, 5];
    const requests = [
      {
        stream: 'run/z/3',
        draw: 'pairs' as const,
        fields: [
          { name: 'z|n', shape },
          { name: 'z|n2', shape },
        ],
      },
      {
        stream: 'run/r/3',
        draw: 'normal' as const,
        fields: [
          { name: 'r|n2', shape },
          { name: 'r|n', shape },
        ],
      },
      { stream: 'run/q/3', draw: 'zeros' as const, fields: [{ name: 'q|n', shape }] },
    ];
    const here = drawNoise(requests, 4);
    const a = new Float32Array(120),
      b = new Float32Array(120),
      c = new Float32Array(120);
    createRng(4, 'run/z/3').fillNormalPairs(a, b);
    createRng(4, 'run/r/3').fillNormal(c);
    expect([here['z|n']!.data, here['z|n2']!.data, here['r|n2']!.data]).toEqual([a, b, c]);
    expect(here['r|n']!.data.every((v) => v === 0) && here['q|n']!.data.every((v) => v === 0)).toBe(true);
    const prefetcher = await NoisePrefetcher.start(4, 1);
    if (typeof prefetcher === 'string') throw new Error(prefetcher);
    try {
      expect(prefetcher.take(0)).toBeUndefined(); // not asked for: the caller draws in place
      prefetcher.prefetch(7, requests);
      prefetcher.prefetch(10, requests); // outside 7+1 … 7+depth once 7 is taken: dropped
      const got = await prefetcher.take(7);
      expect(Object.fromEntries(Object.entries(got!).map(([k, t]) => [k, t.shape]))).toEqual(Object.fromEntries(Object.keys(here).map((k) => [k, shape])));
      for (const [name, t] of Object.entries(here)) expect(same(got![name]!, t)).toBe(true);
      expect(prefetcher.take(10)).toBeUndefined();
    } finally {
      await prefetcher.release();
    }
    expect(prefetcher.threads).toBe(0);
  });

  it('starts threads only where drawing in place costs more than a thread risks, unless told', () => {
    const ddiff256 = 2 * 3 * 256 * 256,
      daps256 = 100 * 3 * 256 * 256;
    expect(noiseThreads(undefined, 'cuda', ddiff256, 16)).toBe(1);
    expect(noiseThreads(undefined, 'cuda', 2 * 3 * 32 * 32, 16)).toBe(0); // ~0.2 ms: not worth a thread
    expect(noiseThreads(undefined, 'cuda', daps256, 16)).toBe(6); // 512 MiB drawn ahead at most
    expect(noiseThreads(undefined, 'cpu', ddiff256, 2)).toBe(0); // ORT's pool takes every core
    expect(noiseThreads(undefined, 'cpu', daps256, 2)).toBe(1);
    expect(noiseThreads(true, 'cpu', 10, 2)).toBe(1);
    expect(noiseThreads(true, 'cuda', 0, 16)).toBe(0); // nothing to draw
    expect(noiseThreads(false, 'cuda', daps256, 16)).toBe(0);
    expect(noiseThreads(3, 'cpu', 10, 2)).toBe(3);
  });
});
