/**
 * The runtime's behaviour on every registered iteration backend, one test body each (tfjs
 * `describeWithFlags`): cancel, pause/resume, a NaN named by the node that produced it, previews
 * at their `every`, NFE and VJP counts, and the JS runtime's result to float32 rounding. Plans:
 * presets from resources/presets with the analytic Gaussian prior on 16×16 inpaint-box, 2 samples.
 * A new backend added to BACKEND_IDS runs all of it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import type { Plan } from '../compile/plan';
import { withMeasurement, withPrior } from '../graph/edit';
import { parseGraph } from '../graph/format';
import type { Tensor } from '../tensor/tensor';
import { norm, sub } from '../tensor/tensor';
import { BACKEND_IDS, backendOf, prepareBackend } from './backend';
import type { BackendId, PreparedBackend } from './backend';
import type { RunEvent } from './events';
import { RunError, runPlan } from './run';

const K = 12;

const planOf = (name: string, iterations = K): Promise<Plan> => {
  const file = new URL(`../../../resources/presets/${name}.lagrange.json`, import.meta.url);
  const doc = withPrior(parseGraph(JSON.parse(readFileSync(file, 'utf8'))), 'gaussian', false);
  return compile(withMeasurement(doc, { kind: 'simulate', task: 'inpaint-box', image: 'sample:astronaut', size: 16 }), { iterations, samples: 2, seed: 9 });
};

const rel = (a: Tensor, b: Tensor): number => norm(sub(a, b)) / norm(b);

/** Runs `fn` with backend `id` prepared for `plan`, releasing it after. */
async function using<T>(id: BackendId, plan: Plan, fn: (b: PreparedBackend) => Promise<T>): Promise<T> {
  const b = await backendOf(id).prepare(plan);
  try {
    return await fn(b);
  } finally {
    await b.release();
  }
}

describe.each(BACKEND_IDS)('backend %s', (id) => {
  // DDiff (no VJP), DiffPIR (prox data step), DPS (a denoiser VJP per iteration).
  it.each(['ddiff', 'diffpir', 'dps'])('%s: the JS runtime’s result to float32 rounding, the same NFE and VJP count, placement recorded', async (name) => {
    const plan = await planOf(name);
    const js = await runPlan(plan);
    const got = await using(id, plan, async (b) => {
      expect(b.id).toBe(id);
      expect(b.placement.map((p) => p.node)).toEqual(plan.body.map((s) => s.id));
      // With the Gaussian prior every step of these presets has an ONNX lowering, in both forms.
      expect(b.placement.every((p) => p.ranOn === (id === 'js' ? 'js' : 'onnx'))).toBe(true);
      const r = await runPlan(plan, { backend: b });
      if (id !== 'js') expect(r.report.warnings).toContain(b.summary);
      // The report says where each step ran, as the backend placed it.
      expect(r.report.placement).toEqual(b.placement.map(({ node, kind, ranOn, provider }) => ({ node, kind, ranOn, provider })));
      return r;
    });
    expect(got.status).toBe('done');
    expect(rel(got.result!, js.result!)).toBeLessThan(1e-4);
    if (id === 'js') expect(Array.from(got.result!.data)).toEqual(Array.from(js.result!.data));
    expect(js.report.placement!.map((p) => [p.node, p.ranOn])).toEqual(plan.body.map((s) => [s.id, 'js']));
    expect(got.report.nfe).toBe(js.report.nfe);
    expect(got.report.vjpCalls).toBe(js.report.vjpCalls);
    expect(js.report.nfe).toBeGreaterThanOrEqual(K);
    if (name === 'dps') expect(js.report.vjpCalls).toBe(K);
  });

  describe('on DDiff', () => {
    let plan: Plan, b: PreparedBackend, whole: Awaited<ReturnType<typeof runPlan>>;
    beforeAll(async () => {
      plan = await planOf('ddiff');
      plan.previews = plan.previews.map((p) => ({ ...p, every: 4 }));
      b = await backendOf(id).prepare(plan);
      whole = await runPlan(plan, { backend: b });
    });
    afterAll(() => b?.release());

    it('cancel: an abort during iteration 3’s events stops before iteration 4 runs, with a snapshot to resume from', async () => {
      const ctl = new AbortController();
      const events: RunEvent[] = [];
      const onEvent = (e: RunEvent): void => {
        events.push(e);
        if (e.type === 'progress' && e.iteration === 3) ctl.abort();
      };
      const r = await runPlan(plan, { backend: b, signal: ctl.signal, throttleMs: 0, onEvent });
      expect(r.status).toBe('cancelled');
      expect(r.snapshot!.iteration).toBe(3);
      expect(r.report.nfe).toBe(3); // DDiff: one network evaluation per iteration
      expect(events.filter((e) => e.type === 'progress').map((e) => (e as { iteration: number }).iteration)).toEqual([1, 2, 3]);
      expect(events.at(-1)).toMatchObject({ type: 'cancelled', iteration: 3 });
      const rest = await runPlan(plan, { backend: b, resume: r.snapshot! });
      expect(Array.from(rest.result!.data)).toEqual(Array.from(whole.result!.data));
    });

    // What the fused form cannot do: time the network apart, as it runs inside the one model.
    it('times the score network on the host, except fused, where it runs inside the iteration model (0 ms, NFE still counted)', () => {
      expect(whole.report.nfe).toBe(K);
      if (id === 'onnx-fused') expect(whole.report.scoreModelMs).toBe(0);
      else expect(whole.report.scoreModelMs).toBeGreaterThan(0);
    });

    it('pause at 5 and resume: the uninterrupted result exactly, the NFE split 5 + 7', async () => {
      const first = await runPlan(plan, { backend: b, stopAt: 5 });
      expect(first.status).toBe('paused');
      expect(first.snapshot!.iteration).toBe(5);
      expect(first.result).toBeUndefined();
      expect(first.report.nfe).toBe(5);
      const rest = await runPlan(plan, { backend: b, resume: first.snapshot! });
      expect(rest.status).toBe('done');
      expect(rest.report.nfe).toBe(K - 5);
      expect(Array.from(rest.result!.data)).toEqual(Array.from(whole.result!.data));
    });

    it('previews arrive at their every (4) and at the last iteration, for each preview node', async () => {
      const frames: Extract<RunEvent, { type: 'preview' }>[] = [];
      await runPlan(plan, { backend: b, throttleMs: 0, onEvent: (e) => e.type === 'preview' && frames.push(e) });
      expect(plan.previews.length).toBeGreaterThan(1);
      for (const p of plan.previews) expect(frames.filter((f) => f.nodeId === p.id).map((f) => f.iteration)).toEqual([0, 4, 8, K - 1]);
      // The frames show what the JS runtime shows, to a grey level (the pixels are float32 rounded to 8 bits).
      const js: typeof frames = [];
      await runPlan(plan, { throttleMs: 0, onEvent: (e) => e.type === 'preview' && js.push(e) });
      expect(frames.map((f) => [f.nodeId, f.iteration, f.width, f.height])).toEqual(js.map((f) => [f.nodeId, f.iteration, 16, 16]));
      const x = plan.previews[0]!.id;
      const [got, want] = [frames, js].map((fs) => fs.filter((f) => f.nodeId === x).at(-1)!.rgba);
      expect(Math.max(...Array.from(got!, (v, i) => Math.abs(v - want![i]!)))).toBeLessThanOrEqual(1);
    });
  });

  /**
   * A NaN timestep at iteration 5 makes Denoise's x̂₀ NaN. Node by node the runtime checks every
   * step's outputs. The fused model shows it only on its outputs (here after XUpdate and ZUpdate:
   * no preview reads x̂₀); that backend re-runs the iteration node by node in JS from the same
   * inputs and streams, so its error names the same node, port and iteration.
   */
  it('a NaN is reported by the node that produced it, as the JS runtime reports it', async () => {
    const plan = await planOf('ddiff');
    plan.previews = [];
    plan.schedule.t[5] = Number.NaN;
    const err = await using(id, plan, (b) => runPlan(plan, { backend: b }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).message).toMatch(/^node "z" \(Denoise\) produced NaN on 'x0' at iteration 5 \(entry 0 of 2×3×16×16\); stopped$/);
    expect((err as RunError).nodeId).toBe('z');
    expect((err as RunError).iteration).toBe(5);
  });
});

describe('prepareBackend', () => {
  it('refuses a backend that is not registered, naming those that are', async () => {
    const plan = await planOf('ddiff', 2);
    await expect(prepareBackend(plan, 'webgl' as BackendId)).rejects.toThrow("unknown iteration backend 'webgl'; registered: js, onnx-node, onnx-fused");
  });

  it("'onnx' is the fused form where the plan fuses", async () => {
    const plan = await planOf('ddiff', 2);
    const b = await prepareBackend(plan, 'onnx');
    await b.release();
    expect(b.id).toBe('onnx-fused');
    expect(b.fallback).toBeUndefined();
    expect(b.summary).toMatch(/^backend: onnx \(fused: /);
  });

  it("'onnx' falls back to node by node with the structured reason where it does not (motion blur's prox is a CG solve)", async () => {
    const file = new URL('../../../resources/presets/diffpir.lagrange.json', import.meta.url);
    const doc = withPrior(parseGraph(JSON.parse(readFileSync(file, 'utf8'))), 'gaussian', false);
    const plan = await compile(withMeasurement(doc, { kind: 'simulate', task: 'deblur-motion', image: 'sample:astronaut', size: 16 }), { iterations: 2 });
    await expect(backendOf('onnx-fused').prepare(plan)).rejects.toMatchObject({ name: 'BackendUnavailable', reason: { kind: 'not-fusable', node: 'x' } });
    const b = await prepareBackend(plan, 'onnx');
    const r = await runPlan(plan, { backend: b }).finally(() => b.release());
    expect(b.id).toBe('onnx-node');
    expect(b.fallback).toMatchObject({
      kind: 'not-fusable',
      node: 'x',
      why: expect.stringMatching(/^XUpdate \(prox: operator deblur-motion: its proxL2 is a preconditioned CG solve/),
    });
    const x = b.placement.find((p) => p.node === 'x')!;
    expect(x).toMatchObject({ kind: 'XUpdate', ranOn: 'js', provider: 'js', reason: { kind: 'not-lowered', node: 'x' } });
    expect(b.placement.filter((p) => p.node !== 'x').every((p) => p.ranOn === 'onnx' && p.provider === 'cpu')).toBe(true);
    expect(b.summary).toMatch(/ran in JS: XUpdate \(prox: operator deblur-motion.*; not fused: node "x": XUpdate \(prox: /);
    // The run's report carries both: the JS step with its reason, and why the iteration was not fused.
    expect(r.report.fallback).toBe(b.fallback!.why);
    expect(r.report.placement!.find((p) => p.node === 'x')).toEqual({ node: 'x', kind: 'XUpdate', ranOn: 'js', provider: 'js', reason: x.reason!.why });
  });
});
