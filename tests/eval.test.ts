/**
 * Evaluation studies: confidence intervals, the prior-free baseline, resumable results, and that
 * solvers and reference rows are scored on the very same measurement.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { tikhonovBaseline } from '../src/engine/eval/baseline';
import { readRows, runStudy } from '../src/engine/eval/study';
import type { StudySpec } from '../src/engine/eval/study';
import { studyReportHtml } from '../src/engine/eval/report';
import { aggregate, markdownTable, meanCi } from '../src/engine/eval/table';
import { withMeasurement, withPrior } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import { presetFile } from '../src/engine/graph/presets';
import { loadImage } from '../src/engine/io/prepare';
import { simulate } from '../src/engine/simulate';

describe('meanCi', () => {
  it('uses the Student-t quantile for small samples', () => {
    const c = meanCi([1, 2, 3, 4]);
    expect(c.mean).toBe(2.5);
    // sd = 1.2910, t_{0.975,3} = 3.182 → 3.182 · 1.2910 / 2
    expect(c.ci).toBeCloseTo((3.182 * Math.sqrt(5 / 3)) / 2, 6);
    expect(Number.isNaN(meanCi([7]).ci)).toBe(true);
  });
});

describe('tikhonovBaseline', () => {
  it('is the zero-filled image (shrunk by 1/(1+λ)) for inpainting', async () => {
    const x = await loadImage('sample:astronaut', 16);
    const m = simulate({ task: 'inpaint-random', image: x, seed: 3, noise: { kind: 'gaussian', sigma: 0 } });
    const b = tikhonovBaseline(m.op, m.y, { lambda: 0.01 });
    const mask = m.op.artifacts.mask!;
    for (let i = 0; i < b.data.length; i++) {
      const expected = mask.data[i % mask.data.length]! > 0 ? m.y.data[i]! / 1.01 : 0;
      expect(b.data[i]).toBeCloseTo(expected, 5);
    }
  });

  it('decreases the data misfit for an operator without a prox (HDR)', async () => {
    const x = await loadImage('sample:astronaut', 16);
    const m = simulate({ task: 'hdr', image: x, seed: 0, noise: { kind: 'gaussian', sigma: 0.01 } });
    const b = tikhonovBaseline(m.op, m.y);
    const misfit = (v: Float32Array): number => m.op.apply({ ...b, data: v }).data.reduce((s, a, i) => s + (a - m.y.data[i]!) ** 2, 0);
    expect(misfit(b.data)).toBeLessThan(0.05 * misfit(new Float32Array(b.data.length)));
  });
});

describe('runStudy', () => {
  const spec: StudySpec = {
    solvers: ['diffpir', 'tikhonov', 'measurement'],
    tasks: ['inpaint-box', 'sr4'],
    images: ['sample:astronaut'],
    seeds: [1],
    sigma: 0.05,
    prior: 'gaussian',
    size: 16,
    iterations: 8,
  };

  it('writes one row per run, skips finished rows when resumed, and survives a torn line', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-eval-'));
    const rows = await runStudy(spec, out);
    // SR's measurement row scores y replicated to the image size (doing nothing).
    expect(rows.map((r) => `${r.solver}/${r.task}`).sort()).toEqual([
      'diffpir/inpaint-box',
      'diffpir/sr4',
      'measurement/inpaint-box',
      'measurement/sr4',
      'tikhonov/inpaint-box',
      'tikhonov/sr4',
    ]);
    expect(rows.find((r) => r.solver === 'measurement' && r.task === 'sr4')!.psnr[0]).toBeGreaterThan(10);
    const solver = rows.find((r) => r.solver === 'diffpir' && r.task === 'inpaint-box')!;
    expect(solver.nfe).toBe(8);
    expect(solver.psnr[0]).toBeGreaterThan(5);
    appendFileSync(join(out, 'results.jsonl'), '{"key": "torn');
    let ran = 0;
    const again = await runStudy(spec, out, { onProgress: (_d, _t, _r, skipped) => void (ran += skipped ? 0 : 1) });
    expect(ran).toBe(0);
    expect(again.map((r) => r.psnr[0])).toEqual(rows.map((r) => r.psnr[0]));
    expect(readRows(join(out, 'results.jsonl'))).toHaveLength(6);
    const md = markdownTable(aggregate(again));
    expect(md).toMatch(/\| inpaint-box \| diffpir \| 1 \|/);
  });

  it('reports a combination that cannot run and finishes the rest (in workers too)', async () => {
    const doc = JSON.parse(readFileSync(presetFile('diff-pnp-hqs')!, 'utf8')) as { nodes: { id: string; params: Record<string, unknown> }[]; overrides: Record<string, unknown> };
    doc.overrides = {}; // keep init "adjoint" everywhere: impossible for HDR, which has no adjoint
    const file = join(mkdtempSync(join(tmpdir(), 'lagrange-eval-')), 'pnp-adjoint.lagrange.json');
    writeFileSync(file, JSON.stringify(doc));
    const failures: string[] = [];
    const rows = await runStudy({ ...spec, solvers: [file], tasks: ['hdr', 'inpaint-box'] }, mkdtempSync(join(tmpdir(), 'lagrange-eval-')), {
      workers: 2,
      onFailure: (f) => failures.push(`${f.task}: ${f.error}`),
    });
    expect(rows.map((r) => r.task)).toEqual(['inpaint-box']);
    expect(failures).toEqual([expect.stringMatching(/^hdr: .*init "adjoint" needs a linear operator/)]);
  });

  it('keeps iteration budgets apart (an NFE sweep) in one study folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-eval-'));
    const base: StudySpec = { ...spec, solvers: ['diffpir'], tasks: ['inpaint-box'] };
    const rows = [...(await runStudy({ ...base, iterations: 4 }, out)), ...(await runStudy({ ...base, iterations: 8 }, out))];
    expect(aggregate(rows).map((e) => e.nfe)).toEqual([4, 8]);
    expect(readRows(join(out, 'results.jsonl'))).toHaveLength(2);
  });

  it('keeps noise levels apart in the table (a σ_y sweep)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-eval-'));
    const base: StudySpec = { ...spec, solvers: ['tikhonov'], tasks: ['inpaint-box'] };
    const rows = [...(await runStudy(base, out)), ...(await runStudy({ ...base, sigma: 0.4 }, out))];
    const entries = aggregate(rows);
    expect(entries.map((e) => e.sigmaY)).toEqual([0.05, 0.4]);
    expect(entries[0]!.psnr.mean).toBeGreaterThan(entries[1]!.psnr.mean);
    expect(markdownTable(entries)).toMatch(/\| task \| σ_y \| solver \|[\s\S]*\| inpaint-box \| 0\.4 \| tikhonov \|/);
  });

  it('writes a self-contained report page with tables, plots and image grids', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-eval-'));
    const rows = await runStudy(spec, out);
    expect(rows.every((r) => r.images && existsSync(join(out, r.images.result)))).toBe(true);
    const html = studyReportHtml(rows, out, { title: 'test study', command: 'lagrange eval …' });
    expect(html).toMatch(/<td>inpaint-box<\/td><td>0.05<\/td><td>diffpir<\/td><td>1<\/td>/);
    // 2 tasks: truth + measurement + 3 solvers on inpaint-box, truth + measurement + 3 on sr4
    expect(html.match(/<img src="data:image\/png;base64,/g)?.length).toBe(5 + 5);
    expect(html).toContain('new uPlot(');
    expect(html).not.toMatch(/<script src=|<link /); // nothing fetched from elsewhere
  });

  it('gives the same rows on two worker threads as in this thread', async () => {
    const strip = (rows: Awaited<ReturnType<typeof runStudy>>): unknown[] => rows.map(({ wallMs: _w, images: _i, ...rest }) => rest);
    const local = await runStudy(spec, mkdtempSync(join(tmpdir(), 'lagrange-eval-')));
    const pooled = await runStudy(spec, mkdtempSync(join(tmpdir(), 'lagrange-eval-')), { workers: 2 });
    expect(strip(pooled)).toEqual(strip(local));
  });

  it('scores solvers and references on the same measurement', async () => {
    const file = presetFile('diffpir')!;
    let doc = parseGraph(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
    doc = withPrior(doc, 'gaussian', false);
    doc = withMeasurement(doc, { kind: 'simulate', task: 'inpaint-box', image: 'sample:astronaut', sigma: 0.05, size: 16 });
    const plan = await compile(doc, { seed: 1, iterations: 2 });
    const x = await loadImage('sample:astronaut', 16);
    const ref = simulate({ task: 'inpaint-box', image: x, seed: 1, noise: { kind: 'gaussian', sigma: 0.05 } });
    expect(Array.from(plan.measurement.y.data)).toEqual(Array.from(ref.y.data));
  });
});
