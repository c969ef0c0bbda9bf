/**
 * The ONNX iteration backend against the JS runtime: DDiff, DDiff-HQS and Diff-PnP-ADMM with the
 * analytic Gaussian prior on 16×16 inpaint-box and sr4, 20 iterations, 2 samples, same seed;
 * then the `lagrange run … --backend onnx` binary end to end. `ONNX_BACKEND_REPORT=1` prints the errors and
 * wall times.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import { withMeasurement, withPrior } from '../graph/edit';
import { parseGraph } from '../graph/format';
import { runPlan } from '../runtime/run';
import { norm, sub } from '../tensor/tensor';
import { prepareBackend } from '../runtime/backend';

const preset = (name: string, task: string) => {
  const file = new URL(`../../../resources/presets/${name}.lagrange.json`, import.meta.url);
  const doc = withPrior(parseGraph(JSON.parse(readFileSync(file, 'utf8'))), 'gaussian', false);
  return withMeasurement(doc, { kind: 'simulate', task, image: 'sample:astronaut', size: 16 });
};

const rows: Record<string, { relDiff: number; jsMs: number; onnxMs: number; warnings: string }> = {};
afterAll(() => {
  if (process.env.ONNX_BACKEND_REPORT) console.table(rows);
});

describe('ONNX iteration backend against the JS runtime', () => {
  const cases = ['ddiff', 'ddiff-hqs', 'diff-pnp-admm'].flatMap((p) => ['inpaint-box', 'sr4'].map((t) => [p, t] as const));
  it.each(cases)('%s on %s: 20 iterations, 2 samples, within 1e-4 relative', async (name, task) => {
    const plan = await compile(preset(name, task), { iterations: 20, samples: 2, seed: 3 });
    const js = await runPlan(plan);
    const backend = await prepareBackend(plan, 'onnx-node');
    const onnx = await runPlan(plan, { backend }).finally(() => backend.release());
    expect(backend.step.form).toBe('node');
    const rel = norm(sub(onnx.result!, js.result!)) / norm(js.result!);
    const note = onnx.report.warnings.filter((w) => w.startsWith('backend: onnx'));
    rows[`${name}/${task}`] = { relDiff: rel, jsMs: js.report.wallMs, onnxMs: onnx.report.wallMs, warnings: note.join(' | ') };
    expect(onnx.status).toBe('done');
    expect(rel).toBeLessThan(1e-4);
    expect(onnx.report.nfe).toBe(js.report.nfe); // the score model is still called once per iteration
    expect(note).toHaveLength(1); // one warning, naming what ran in JS
    expect(note[0]).toContain('Denoise, XUpdate');
    expect(note[0]).toMatch(/ran in JS: nothing\)/);
  });

  it('falls back to JS for a prox XUpdate it cannot lower (motion blur: a CG solve) and says why', async () => {
    const plan = await compile(preset('ddiff', 'deblur-motion'), { iterations: 3, samples: 1 });
    const x = plan.body.find((s) => s.kind === 'XUpdate')!;
    x.params = { ...x.params, mode: 'prox', lambda: 7, guidance: 1 };
    const js = await runPlan(plan);
    const backend = await prepareBackend(plan, 'onnx-node');
    const onnx = await runPlan(plan, { backend }).finally(() => backend.release());
    expect(norm(sub(onnx.result!, js.result!)) / norm(js.result!)).toBeLessThan(1e-4);
    expect(onnx.report.warnings.join('\n')).toContain('ran in JS: XUpdate (prox: operator deblur-motion: its proxL2 is a preconditioned CG solve');
  });
});

// Through the `lagrange` binary, not `main()`: src/engine may not import host code (eslint layers).
describe('lagrange run --backend onnx', () => {
  const bin = new URL('../../../bin/lagrange.mjs', import.meta.url).pathname;
  const lagrange = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

  it('runs DDiff through the ONNX executors and records the backend in report.json', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lagrange-backend-')), 'run');
    const r = lagrange('run', 'ddiff', '--task', 'inpaint-box', '--prior', 'gaussian', '--size', '16', '--iterations', '10', '--backend', 'onnx', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.backend).toBe('onnx');
    expect(report.iterations).toBe(10);
    expect(report.warnings.some((w: string) => w.startsWith('backend: onnx'))).toBe(true);
    expect(r.stdout).toContain('backend onnx');
  }, 30_000);

  it('rejects an unknown backend', () => {
    const r = lagrange('run', 'ddiff', '--backend', 'tpu', '--out', tmpdir());
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--backend must be js or onnx/);
  }, 30_000);
});
