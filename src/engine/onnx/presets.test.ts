/**
 * Every shipped preset on the ONNX backend against the JS runtime: same plan, same seed, 2 samples,
 * the analytic Gaussian prior on a 16×16 image, fused (each preset is one model per iteration) and
 * node by node; DiffPIR's separable prox; then DAPS, DiffPIR and DPS with the bundled fmnist-32
 * network inlined (DPS's finite-difference VJP as network forwards). `ONNX_BACKEND_REPORT=1`
 * prints the errors and wall times.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import { withMeasurement, withPrior } from '../graph/edit';
import { parseGraph } from '../graph/format';
import { runPlan } from '../runtime/run';
import { norm, sub } from '../tensor/tensor';
import { prepareBackend } from '../runtime/backend';

const DIR = new URL('../../../resources/presets/', import.meta.url);
// Latent presets run their steps in JS on the ONNX backend (the lowerings take the image shape).
const PRESETS = readdirSync(DIR)
  .filter((f) => f.endsWith('.lagrange.json') && !f.startsWith('latent-'))
  .map((f) => f.replace('.lagrange.json', ''))
  .sort();

const preset = (name: string, prior: string, task: string, size: number | undefined) => {
  const doc = withPrior(parseGraph(JSON.parse(readFileSync(new URL(`${name}.lagrange.json`, DIR), 'utf8'))), prior, false);
  return withMeasurement(doc, { kind: 'simulate', task, image: 'sample:astronaut', ...(size ? { size } : {}) });
};

const rows: Record<string, { form: string; relDiff: number; nfe: number; jsMs: number; onnxMs: number }> = {};
afterAll(() => {
  if (process.env.ONNX_BACKEND_REPORT) console.table(rows);
});

/** Runs `name` on JS and on the ONNX backend (fused first unless `fused` is false); returns the form and ‖Δx‖/‖x‖. */
async function compare(
  name: string,
  prior: string,
  task: string,
  iterations: number,
  opts: { size?: number; fused?: boolean } = {},
): Promise<{ form: string; rel: number; note: string }> {
  const plan = await compile(preset(name, prior, task, opts.size), { iterations, samples: 2, seed: 7 });
  const js = await runPlan(plan);
  const backend = await prepareBackend(plan, (opts.fused ?? true) ? 'onnx' : 'onnx-node');
  try {
    const onnx = await runPlan(plan, { backend });
    expect(onnx.status).toBe('done');
    const rel = norm(sub(onnx.result!, js.result!)) / norm(js.result!);
    rows[`${name}/${prior}/${task}${opts.fused === false ? ' (node)' : ''}`] = {
      form: backend.step.form,
      relDiff: rel,
      nfe: onnx.report.nfe,
      jsMs: js.report.wallMs,
      onnxMs: onnx.report.wallMs,
    };
    expect(onnx.report.nfe).toBe(js.report.nfe); // network evaluations inside the graph are counted
    expect(onnx.report.vjpCalls).toBe(js.report.vjpCalls); // and denoiser VJPs (DPS)
    // The JS executors' own notes (e.g. a linearized prox) are recorded the same.
    expect(onnx.report.warnings.filter((w) => !w.startsWith('backend: onnx')).sort()).toEqual(js.report.warnings.sort());
    return { form: backend.step.form, rel, note: backend.summary };
  } finally {
    await backend.release();
  }
}

/** Iterations per preset: DAPS runs 100 Langevin steps and a 5-step ODE per iteration. */
const iterationsOf = (name: string): number => (name === 'daps' ? 4 : 8);

describe('every preset on the ONNX backend', () => {
  it('covers every preset file', () => {
    expect(PRESETS).toEqual(['daps', 'ddiff', 'ddiff-hqs', 'diff-pnp-admm', 'diff-pnp-hqs', 'diffpir', 'dps']);
  });

  it.each(PRESETS)('%s with the Gaussian prior on 16×16 inpaint-box: fused, within 1e-4 relative', async (name) => {
    const { form, rel } = await compare(name, 'gaussian', 'inpaint-box', iterationsOf(name), { size: 16 });
    expect(form).toBe('fused');
    expect(rel).toBeLessThan(1e-4);
  });

  // Node by node every step but DAPS's ODE (the host calls the network between its Euler steps) runs in ONNX.
  it.each(PRESETS)('%s with the Gaussian prior, node by node: within 1e-4 relative', async (name) => {
    const { form, rel, note } = await compare(name, 'gaussian', 'inpaint-box', iterationsOf(name), { size: 16, fused: false });
    expect(form).toBe('node');
    expect(note).toMatch(name === 'daps' ? /ran in JS: ProbabilityFlowODE\)/ : /ran in JS: nothing\)/);
    expect(rel).toBeLessThan(1e-4);
  });

  // Not phase retrieval: with the constant-mean Gaussian prior x̂₀ is a flat image whose spectrum is
  // 0 but for DC, where the VJP of |Fx| takes the phase of rounding noise (float64 in JS, float32
  // here) and the linearized step multiplies it by 1/ρ ≈ 1e8; that run is rounding-chaotic on any backend.
  it.each(['sr4', 'deblur-gauss', 'deblur-nonlinear'])('diffpir on %s (separable closed-form prox; linearized step): fused, within 1e-4 relative', async (task) => {
    const { form, rel } = await compare('diffpir', 'gaussian', task, 8, { size: 16 });
    expect(form).toBe('fused');
    expect(rel).toBeLessThan(1e-4);
  });

  it.each([
    ['daps', 3],
    ['diffpir', 5],
    ['dps', 5],
  ] as const)('%s with the fmnist-32 network inlined: fused, within 1e-4 relative', async (name, iterations) => {
    const { form, rel } = await compare(name, 'fmnist-32', 'inpaint-box', iterations);
    expect(form).toBe('fused');
    expect(rel).toBeLessThan(1e-4);
  });

  it('dps with the fmnist-32 network, node by node: the finite-difference VJP is called on the host', async () => {
    const { form, rel, note } = await compare('dps', 'fmnist-32', 'inpaint-box', 3, { fused: false });
    expect(form).toBe('node');
    expect(note).toMatch(/DPSGuidance via ONNX .*ran in JS: nothing\)/);
    expect(rel).toBeLessThan(1e-4);
  });
});
