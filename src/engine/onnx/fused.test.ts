/**
 * The fused iteration graph against the JS runtime: the whole DDiff / DDiff-HQS body in one ONNX
 * model, with the analytic Gaussian prior in closed form and with the bundled fmnist-32 network
 * inlined. Same plan, same seed; every iteration's noise comes from the runtime's streams, so the
 * results agree to float32 rounding. `ONNX_BACKEND_REPORT=1` prints errors and wall times.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import { withMeasurement, withPrior } from '../graph/edit';
import { parseGraph } from '../graph/format';
import { runPlan } from '../runtime/run';
import { norm, sub } from '../tensor/tensor';
import { prepareBackend } from '../runtime/backend';
import { buildFused } from './fused';

const preset = (name: string, prior: string, task: string, size?: number) => {
  const file = new URL(`../../../resources/presets/${name}.lagrange.json`, import.meta.url);
  const doc = withPrior(parseGraph(JSON.parse(readFileSync(file, 'utf8'))), prior, false);
  return withMeasurement(doc, { kind: 'simulate', task, image: 'sample:astronaut', ...(size ? { size } : {}) });
};

const rows: Record<string, { relDiff: number; jsMs: number; fusedMs: number; nfe: number }> = {};
afterAll(() => {
  if (process.env.ONNX_BACKEND_REPORT) console.table(rows);
});

describe('fused ONNX iteration against the JS runtime', () => {
  it.each([
    ['ddiff', 'gaussian', 'inpaint-box', 16],
    ['ddiff', 'gaussian', 'sr4', 16],
    ['ddiff-hqs', 'gaussian', 'deblur-gauss', 16],
    ['ddiff', 'fmnist-32', 'inpaint-box', undefined],
    ['ddiff', 'fmnist-32', 'sr4', undefined],
  ] as const)('%s with prior %s on %s: one model per iteration, within 1e-4 relative', async (name, prior, task, size) => {
    const plan = await compile(preset(name, prior, task, size), { iterations: 20, samples: 2, seed: 5 });
    const js = await runPlan(plan);
    const backend = await prepareBackend(plan, 'onnx');
    try {
      expect(backend.step.form).toBe('fused');
      const fused = await runPlan(plan, { backend });
      const rel = norm(sub(fused.result!, js.result!)) / norm(js.result!);
      rows[`${name}/${prior}/${task}`] = { relDiff: rel, jsMs: js.report.wallMs, fusedMs: fused.report.wallMs, nfe: fused.report.nfe };
      expect(fused.status).toBe('done');
      expect(rel).toBeLessThan(1e-4);
      expect(fused.report.nfe).toBe(js.report.nfe); // the network inside the graph is still counted
      expect(fused.report.warnings.join('\n')).toContain('backend: onnx (fused');
    } finally {
      await backend.release();
    }
  });

  it('feeds only registers, constants and per-iteration scalars/noise; returns only what the run reads', async () => {
    const plan = await compile(preset('ddiff', 'gaussian', 'inpaint-box', 16), { iterations: 5, samples: 1 });
    const built = buildFused(plan);
    if ('reason' in built) throw new Error(built.reason.why);
    expect([...built.hostWires.values()].every((k) => k.endsWith('.current'))).toBe(true);
    const outKeys = built.outputs.map((o) => `${o.at.node}.${o.at.port}`).sort();
    const read = new Set([...plan.states.map((s) => `${s.next.node}.${s.next.port}`), ...plan.previews.map((p) => `${p.source.node}.${p.source.port}`)]);
    expect(outKeys.every((k) => read.has(k) || k === `${plan.output!.node}.${plan.output!.port}`)).toBe(true);
  });

  it('a NaN inside the fused graph is traced to the node that makes it, not the output it reaches', async () => {
    // A NaN timestep at iteration 5 makes Denoise's x̂₀ NaN; with no preview tapping x̂₀ it is an
    // internal value of the fused graph, and the NaN reaches the outputs through XUpdate/ZUpdate.
    const plan = await compile(preset('ddiff', 'gaussian', 'inpaint-random', 16), { iterations: 20, samples: 1 });
    plan.previews = [];
    plan.schedule.t[5] = Number.NaN;
    const js = await runPlan(plan).catch((e: Error) => e.message);
    const backend = await prepareBackend(plan, 'onnx');
    try {
      expect(backend.step.form).toBe('fused');
      const fused = await runPlan(plan, { backend }).catch((e: Error) => e.message);
      expect(js).toMatch(/^node "z" \(Denoise\) produced NaN on 'x0' at iteration 5/);
      expect(fused).toBe(js);
    } finally {
      await backend.release();
    }
  });

  it('a plan with a step that has no lowering runs node by node and says why it was not fused', async () => {
    // DiffPIR's prox on motion blur is a CG solve with a data-dependent iteration count (steps-prox.ts).
    const plan = await compile(preset('diffpir', 'gaussian', 'deblur-motion', 16), { iterations: 3, samples: 1 });
    const backend = await prepareBackend(plan, 'onnx');
    try {
      expect(backend.step.form).toBe('node');
      expect(backend.summary).toMatch(/not fused: node "x": XUpdate \(prox: operator deblur-motion: its proxL2 is a preconditioned CG solve/);
      expect(backend.summary).toMatch(/ran in JS: XUpdate \(prox: operator deblur-motion/);
      const r = await runPlan(plan, { backend });
      expect(r.report.warnings).toContain(backend.summary);
    } finally {
      await backend.release();
    }
  });
});
