import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import type { Plan } from '../compile/plan';
import type { GraphDocument } from '../graph/format';
import { parseGraph } from '../graph/format';
import { withBackend } from '../graph/edit';
import type { ScoreModel } from '../priors/types';
import type { RunEvent } from './events';
import { RunError, runPlan } from './run';

const FIXTURE = new URL('../../../tests/fixtures/graphs/ddiff-gaussian.lagrange.json', import.meta.url);
const ddiff = (): GraphDocument => parseGraph(JSON.parse(readFileSync(FIXTURE, 'utf8')));

describe('compile', () => {
  it('splits DDiff into constants, loop registers and an ordered body', async () => {
    const plan = await compile(ddiff(), { iterations: 10 });
    expect(plan.body.map((s) => `${s.id}:${s.kind}`)).toEqual(['z:Denoise', 'x:XUpdate', 'noise:ZUpdate', 'dual:DualUpdate']);
    expect(plan.states.map((s) => [s.id, s.init, `${s.next.node}.${s.next.port}`])).toEqual([
      ['xt', 'noise', 'noise.xt'],
      ['u', 'zeros', 'dual.u'],
    ]);
    expect(plan.output).toEqual({ node: 'x', port: 'x' });
    expect(plan.imageShape).toEqual([3, 32, 32]);
    expect(plan.schedule.K).toBe(10);
    expect(plan.prior.provider).toBe('analytic');
    expect(plan.hash).toMatch(/^[0-9a-f]{64}$/);
    // The hash names the solver: the backend that runs it is left out, any solver edit is not.
    expect((await compile(withBackend(ddiff(), 'onnx'), { iterations: 10 })).hash).toBe(plan.hash);
    const edited = ddiff();
    const dual = edited.nodes.find((n) => n.kind === 'DualUpdate')!;
    dual.params = { ...dual.params, rho: 0.5 };
    expect((await compile(edited, { iterations: 10 })).hash).not.toBe(plan.hash);
  });

  it('refuses an invalid graph with every error, and a graph without a measurement', async () => {
    const bad = ddiff();
    bad.edges = bad.edges.filter((e) => !(e.target === 'x' && e.targetPort === 'measurement'));
    await expect(compile(bad)).rejects.toThrow(/nodes\[8\]: node "x" \(XUpdate\): input 'measurement' \(measurement\) is not connected/);
  });

  it('names the node when a resource cannot be built', async () => {
    const g = ddiff();
    (g.nodes[0]!.params as Record<string, unknown>).source = 'sample:nosuch';
    await expect(compile(g)).rejects.toThrow(/node "image" \(ImageInput\): sample:nosuch: no such bundled sample; samples: astronaut/);
  });
});

describe('runPlan', () => {
  it('runs DDiff on a batch: one NFE per iteration, a complete report, a better fit than x = 0', async () => {
    const plan = await compile(ddiff(), { iterations: 200, samples: 3 });
    const events: RunEvent[] = [];
    const r = await runPlan(plan, { onEvent: (e) => events.push(e), throttleMs: 0 });
    expect(r.status).toBe('done');
    expect(r.result!.shape).toEqual([3, 3, 32, 32]);
    expect(r.report.nfe).toBe(200);
    expect(r.report.samples).toBe(3);
    expect(r.report.scoreModelMs + r.report.engineMs).toBeCloseTo(r.report.wallMs, 6);
    // A(0) = 0 has relative residual 1; the solver must move towards y (solver accuracy itself is
    // checked against exact posteriors in the oracle tests)
    for (const v of r.report.metrics!.residual) expect(v).toBeLessThan(0.97);
    expect(r.report.metrics!.psnr).toHaveLength(3);
    // independent samples differ (the hole is filled from the prior)
    expect(Array.from(r.result!.data.slice(0, 3072))).not.toEqual(Array.from(r.result!.data.slice(3072, 6144)));
    expect(events.filter((e) => e.type === 'progress').length).toBe(200);
    expect(events.at(-1)!.type).toBe('done');
  });

  it('stops on NaN naming the node and the iteration', async () => {
    const plan = await compile(ddiff(), { iterations: 20 });
    const prior = plan.prior;
    let calls = 0;
    const broken: ScoreModel = {
      ...prior,
      async predictEps(xt, t) {
        const eps = await prior.predictEps(xt, t);
        if (++calls === 7) eps.data[5] = NaN;
        return eps;
      },
    };
    const patched: Plan = { ...plan, constants: new Map([...plan.constants].map(([k, v]) => [k, v === prior ? broken : v])) };
    const err = await runPlan(patched).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).message).toBe('node "z" (Denoise) produced NaN on \'x0\' at iteration 6 (entry 5 of 1×3×32×32); stopped');
    expect((err as RunError).nodeId).toBe('z');
  });

  it('cancels through an AbortSignal', async () => {
    const plan = await compile(ddiff(), { iterations: 50 });
    const ctl = new AbortController();
    const r = await runPlan(plan, { signal: ctl.signal, throttleMs: 0, onEvent: (e) => e.type === 'progress' && e.iteration === 10 && ctl.abort() });
    expect(r.status).toBe('cancelled');
    expect(r.snapshot!.iteration).toBe(10);
    expect(r.report.nfe).toBe(10);
  });

  it('pauses with a snapshot and resumes to exactly the uninterrupted result', async () => {
    const plan = await compile(ddiff(), { iterations: 40, samples: 2 });
    const whole = await runPlan(plan);
    const first = await runPlan(plan, { stopAt: 17 });
    expect(first.status).toBe('paused');
    const rest = await runPlan(plan, { resume: first.snapshot! });
    expect(rest.report.nfe).toBe(23);
    expect(Array.from(rest.result!.data)).toEqual(Array.from(whole.result!.data));
  });
});
