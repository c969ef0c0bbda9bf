/**
 * Where LPIPS reaches users: the Metrics node's `lpips` folder (metrics events and the final
 * report) and `lagrange eval --lpips` (rows, table.md, table.csv, report.html), with the
 * "not computed" note where no network is configured. The network is the closed-form stand-in
 * of tests/helpers/lpips.ts (mean squared difference), so every number is checked exactly.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runEval } from '../src/cli/eval';
import { compile } from '../src/engine/compile/compile';
import { studyReportHtml } from '../src/engine/eval/report';
import { readRows, runStudy } from '../src/engine/eval/study';
import type { StudySpec } from '../src/engine/eval/study';
import { aggregate, csvTable, LPIPS_NOT_COMPUTED, markdownTable } from '../src/engine/eval/table';
import { withMeasurement, withPrior } from '../src/engine/graph/edit';
import type { GraphDocument } from '../src/engine/graph/format';
import { parseGraph } from '../src/engine/graph/format';
import { presetFile } from '../src/engine/graph/presets';
import { loadImage } from '../src/engine/io/prepare';
import { releaseLpipsNetworks } from '../src/engine/metrics/lpips';
import type { RunEvent } from '../src/engine/runtime/events';
import { runPlan } from '../src/engine/runtime/run';
import { simulate } from '../src/engine/simulate';
import { clippedMse, fakeLpips } from './helpers/lpips';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'lagrange-lpips-'));
const net = fakeLpips(join(tmp(), 'mse'));
afterAll(() => releaseLpipsNetworks());

/** DiffPIR on a Gaussian prior, inpainting a size×size astronaut, its Metrics node given `lpips`. */
function graph(size: number, lpips?: string): GraphDocument {
  let doc = parseGraph(JSON.parse(readFileSync(presetFile('diffpir')!, 'utf8')) as unknown, 'diffpir');
  doc = withMeasurement(withPrior(doc, 'gaussian', false), { kind: 'simulate', task: 'inpaint-box', image: 'sample:astronaut', sigma: 0.05, size });
  const m = doc.nodes.find((n) => n.kind === 'Metrics')!;
  if (lpips) m.params = { ...m.params, lpips, every: 2 };
  return doc;
}

describe('Metrics node with an LPIPS network', () => {
  it('reports LPIPS of the result in the final report and in the metrics events', async () => {
    const plan = await compile(graph(32, net), { iterations: 4, samples: 2 });
    const events: RunEvent[] = [];
    const r = await runPlan(plan, { onEvent: (e) => events.push(e) });
    const truth = plan.measurement.x!;
    const expected = clippedMse(
      r.result!.data,
      Float32Array.from({ length: r.result!.data.length }, (_, i) => truth.data[i % truth.data.length]!),
      2,
    );
    expect(r.report.metrics!.lpips).toHaveLength(2);
    r.report.metrics!.lpips!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(expected[0]).toBeGreaterThan(1e-3);
    const metrics = events.filter((e) => e.type === 'metrics');
    expect(metrics.map((e) => e.iteration)).toEqual([0, 2, 3]);
    expect(metrics.every((e) => e.lpips?.length === 2 && e.lpips.every((v) => v > 0))).toBe(true);
    // The last event scores the result itself.
    expect(metrics.at(-1)!.lpips).toEqual(r.report.metrics!.lpips);
  });

  it('has no LPIPS without a network, and refuses images below the network’s size at compile time', async () => {
    const r = await runPlan(await compile(graph(32), { iterations: 2 }));
    expect(r.report.metrics!.psnr).toHaveLength(1);
    expect(r.report.metrics!.lpips).toBeUndefined();
    await expect(compile(graph(16, net), { iterations: 2 })).rejects.toThrow(
      /node "metrics" \(Metrics\): LPIPS \(alex\) needs images of at least 31×31 px .*got 16×16 \(network .*model\.onnx\)/,
    );
    await expect(compile(graph(32, '/nonexistent/lpips'), { iterations: 2 })).rejects.toThrow(/node "metrics" \(Metrics\): \/nonexistent\/lpips\/model\.json: missing/);
  });
});

describe('eval with --lpips', () => {
  const spec: StudySpec = {
    solvers: ['diffpir', 'tikhonov', 'measurement'],
    tasks: ['inpaint-box'],
    images: ['sample:astronaut'],
    seeds: [1],
    sigma: 0.05,
    prior: 'gaussian',
    size: 32,
    iterations: 4,
  };

  it('says LPIPS was not computed where no network is configured, then adds the column when one is', async () => {
    const out = tmp();
    const plain = await runStudy(spec, out);
    expect(plain.every((r) => r.lpips === undefined)).toBe(true);
    const md = markdownTable(aggregate(plain));
    expect(md).not.toMatch(/LPIPS \|/);
    expect(md).toContain(`\n\n${LPIPS_NOT_COMPUTED}\n`);
    expect(studyReportHtml(plain, out, { title: 't' })).toContain('<p>LPIPS: not computed — no LPIPS network configured (--lpips &lt;dir&gt;, see docs/models.md)</p>');

    // Same folder with --lpips: rows scored without it are run again, now with LPIPS.
    let ran = 0;
    const rows = await runStudy({ ...spec, lpips: net }, out, { onProgress: (_d, _t, _r, skipped) => void (ran += skipped ? 0 : 1) });
    expect(ran).toBe(3);
    expect(rows.every((r) => r.lpips?.length === 1)).toBe(true);
    // The measurement row is y itself: its LPIPS is the stand-in's MSE of (y, x) on the same measurement.
    const x = await loadImage('sample:astronaut', 32);
    const m = simulate({ task: 'inpaint-box', image: x, seed: 1, noise: { kind: 'gaussian', sigma: 0.05 } });
    const measured = rows.find((r) => r.solver === 'measurement')!;
    expect(measured.lpips![0]).toBeCloseTo(clippedMse(m.y.data, x.data, 1)[0]!, 6);
    const solver = rows.find((r) => r.solver === 'diffpir')!;
    expect(solver.psnr[0]).toBe(plain.find((r) => r.solver === 'diffpir')!.psnr[0]); // same run, now scored

    const entries = aggregate(rows);
    const table = markdownTable(entries);
    expect(table).toMatch(/\| task \| solver \| n \| PSNR \(dB\) \| SSIM \| LPIPS \| residual/);
    expect(table).toContain(`| inpaint-box | measurement | 1 | ${measured.psnr[0]!.toFixed(2)} | ${measured.ssim[0]!.toFixed(3)} | ${measured.lpips![0]!.toFixed(3)} |`);
    expect(table).not.toContain(LPIPS_NOT_COMPUTED);
    const csv = csvTable(entries).split('\n');
    expect(csv[0]).toMatch(/,lpips_mean,lpips_ci95$/);
    expect(csv.find((l) => l.includes(',measurement,'))).toContain(`,${+measured.lpips![0]!.toPrecision(6)},`);
    const html = studyReportHtml(rows, out, { title: 't' });
    expect(html).toContain('<th>LPIPS</th>');
    expect(html).toContain(`<td>${measured.lpips![0]!.toFixed(3)}</td>`);
    expect(html).not.toContain('LPIPS: not computed');
  });

  it('writes the column from the command line, and refuses a bad --lpips folder before running anything', async () => {
    const out = tmp();
    const io = { out: () => {}, err: () => {}, tty: false };
    const args = { solvers: 'tikhonov', tasks: 'inpaint-box', images: ['sample:astronaut'], seeds: '0', sigma: '0.05', prior: 'gaussian', size: '32', out, workers: '1' };
    const lines = await runEval({ ...args, workers: '2', lpips: net }, io, []);
    expect(lines[0]).toMatch(/\| LPIPS \|/);
    // Scored in a worker thread, which opens the network itself: the same number as in this one.
    const [row] = await runStudy({ ...spec, solvers: ['tikhonov'], seeds: [0], lpips: net }, tmp());
    expect(readRows(join(out, 'results.jsonl'))[0]!.lpips).toEqual(row!.lpips);
    const prior = new URL('./fixtures/models/gaussian-eps', import.meta.url).pathname;
    await expect(runEval({ ...args, out: tmp(), lpips: prior }, io, [])).rejects.toThrow(/^--lpips: .*gaussian-eps\/model\.json: format: expected 'lagrange-lpips'/);
    const plain = await runEval({ ...args, out: tmp() }, io, []);
    expect(plain.at(-1)).toBe(LPIPS_NOT_COMPUTED);
  });
});
