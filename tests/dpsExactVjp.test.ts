/**
 * DPS with the exact denoiser VJP of a network (ScoreModel vjp "exact": reverse mode through the
 * bundled fmnist-32 UNet, onnx/autodiff): accepted by the validator, run by the JS runtime and
 * inside the fused ONNX iteration with the same numbers, recorded in the report, and different
 * from the symmetric finite difference it replaces (which assumes a symmetric Jacobian).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { withMeasurement } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import type { GraphDocument } from '../src/engine/graph/format';
import { validateGraph } from '../src/engine/graph/validate';
import type { OnnxScoreModel } from '../src/engine/priors/onnxPrior';
import { prepareBackend } from '../src/engine/runtime/backend';
import { runPlan } from '../src/engine/runtime/run';
import { norm, sub } from '../src/engine/tensor/tensor';

const DPS = new URL('../resources/presets/dps.lagrange.json', import.meta.url);

/** The DPS preset on the bundled network with the prior's VJP set to `vjp`, box inpainting of a held-out image. */
function dps(vjp: 'exact' | 'symmetric-fd'): GraphDocument {
  const doc = parseGraph(JSON.parse(readFileSync(DPS, 'utf8')));
  const withVjp = { ...doc, nodes: doc.nodes.map((n) => (n.kind === 'ScoreModel' ? { ...n, params: { ...n.params, vjp } } : n)) };
  return withMeasurement(withVjp, { kind: 'simulate', task: 'inpaint-box', image: 'model:fmnist-32/heldout/00.png' });
}

describe('DPS with the exact denoiser VJP of a network', () => {
  it("is the shipped preset's default on the bundled network, recorded in the run report", async () => {
    const doc = withMeasurement(parseGraph(JSON.parse(readFileSync(DPS, 'utf8'))), { kind: 'simulate', task: 'inpaint-box', image: 'model:fmnist-32/heldout/00.png' });
    const plan = await compile(doc, { iterations: 2, seed: 0 });
    const r = await runPlan(plan);
    expect(r.report.effectiveParams?.prior?.vjp).toBe('exact');
    expect(r.report.nfe).toBe(2); // no finite-difference forwards
    await (plan.prior as OnnxScoreModel).release();
  }, 60_000);

  it('is a valid graph, and runs the same on the JS runtime and in the fused ONNX iteration', async () => {
    const doc = dps('exact');
    expect(validateGraph(doc).errors).toEqual([]);
    const plan = await compile(doc, { iterations: 6, samples: 2, seed: 3 });
    expect(plan.effectiveParams.prior?.vjp).toBe('exact');
    const js = await runPlan(plan);
    expect(js.status).toBe('done');
    expect(js.report.vjpCalls).toBe(6); // one batched VJP per iteration
    const backend = await prepareBackend(plan, 'onnx');
    try {
      expect(backend.step.form).toBe('fused');
      const onnx = await runPlan(plan, { backend });
      expect(onnx.status).toBe('done');
      const rel = norm(sub(onnx.result!, js.result!)) / norm(js.result!);
      expect(rel).toBeLessThan(1e-4);
      expect(onnx.report.nfe).toBe(js.report.nfe); // backpropagation adds no network evaluation
    } finally {
      await backend.release();
    }
    await (plan.prior as OnnxScoreModel).release();
  }, 120_000);

  it('differs from the symmetric finite difference, which costs two extra forwards per step', async () => {
    const [exact, fd] = await Promise.all(['exact', 'symmetric-fd'].map((v) => compile(dps(v as 'exact' | 'symmetric-fd'), { iterations: 4, seed: 3 })));
    const a = await runPlan(exact!);
    const b = await runPlan(fd!);
    expect(b.report.nfe - a.report.nfe).toBe(2 * 4);
    expect(norm(sub(a.result!, b.result!)) / norm(b.result!)).toBeGreaterThan(1e-3);
    await Promise.all([exact!, fd!].map((p) => (p.prior as OnnxScoreModel).release()));
  }, 120_000);
});
