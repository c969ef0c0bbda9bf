/**
 * `report.html` of a study: one self-contained page (no network) with the tables, plots drawn by
 * uPlot (inlined) — PSNR against σ_y when the study has several noise levels, PSNR and wall time
 * against NFE — and image grids of ground truth, measurement and each solver per task.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { StudyRow } from './study';
import type { TableEntry } from './table';
import { aggregate, LPIPS_NOT_COMPUTED } from './table';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pm = (c: { mean: number; ci: number } | undefined, d: number): string =>
  !c || Number.isNaN(c.mean) ? 'n/a' : Number.isNaN(c.ci) ? c.mean.toFixed(d) : `${c.mean.toFixed(d)} ± ${c.ci.toFixed(d)}`;

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const dir = join(require.resolve('uplot/package.json'), '..', 'dist');
  return { js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
}

function table(entries: TableEntry[]): string {
  const lp = entries.some((e) => e.lpips);
  const head = `<tr><th>task</th><th>σ_y</th><th>solver</th><th>n</th><th>PSNR (dB)</th><th>SSIM</th>${lp ? '<th>LPIPS</th>' : ''}<th>residual</th><th>time (s)</th><th>NFE</th></tr>`;
  const body = [...entries]
    .sort((a, b) => a.task.localeCompare(b.task) || a.sigmaY - b.sigmaY)
    .map(
      (e) =>
        `<tr><td>${esc(e.task)}</td><td>${e.sigmaY}</td><td>${esc(e.solver)}</td><td>${e.n}</td><td>${pm(e.psnr, 2)}</td><td>${pm(e.ssim, 3)}</td>${lp ? `<td>${pm(e.lpips, 3)}</td>` : ''}<td>${pm(e.residual, 3)}</td><td>${pm(e.seconds, 2)}</td><td>${e.nfe.toFixed(0)}</td></tr>`,
    );
  return `<table>${head}${body.join('')}</table>${lp ? '' : `<p>${esc(LPIPS_NOT_COMPUTED)}</p>`}`;
}

/** Per-task image grids: rows are images, columns truth, measurement and each solver. */
function grids(rows: StudyRow[], root: string, maxImages: number): string {
  const png = (rel: string | undefined): string =>
    rel && existsSync(join(root, rel)) ? `<img src="data:image/png;base64,${readFileSync(join(root, rel)).toString('base64')}">` : '';
  const out: string[] = [];
  for (const task of [...new Set(rows.map((r) => r.task))].sort()) {
    const tr = rows.filter((r) => r.task === task && r.images);
    const solvers = [...new Set(tr.map((r) => r.solver))];
    const images = [...new Set(tr.map((r) => `${r.image}|${r.seed}|${r.sigmaY}`))].slice(0, maxImages);
    if (!images.length) continue;
    const head = `<tr><th>truth</th><th>measurement</th>${solvers.map((s) => `<th>${esc(s)}</th>`).join('')}</tr>`;
    const lines = images.map((key) => {
      const of = tr.filter((r) => `${r.image}|${r.seed}|${r.sigmaY}` === key);
      const cells = solvers.map((s) => {
        const r = of.find((x) => x.solver === s);
        return `<td>${png(r?.images?.result)}<br><small>${r ? `${(r.psnr.reduce((a, b) => a + b, 0) / r.psnr.length).toFixed(1)} dB` : ''}</small></td>`;
      });
      return `<tr><td>${png(of[0]?.images?.truth)}</td><td>${png(of[0]?.images?.measurement)}</td>${cells.join('')}</tr>`;
    });
    out.push(`<h3>${esc(task)}</h3><table class="grid">${head}${lines.join('')}</table>`);
  }
  return out.join('\n');
}

/** Plot data: per task and solver, mean PSNR by σ_y; per solver and task, (NFE, PSNR, seconds). */
function plotData(rows: StudyRow[]): unknown {
  const sigmas = [...new Set(rows.map((r) => r.sigmaY))].sort((a, b) => a - b);
  const tasks = [...new Set(rows.map((r) => r.task))].sort();
  const solvers = [...new Set(rows.filter((r) => r.nfe > 0).map((r) => r.solver))];
  const bySigma = tasks.map((task) => ({
    task,
    series: solvers.map((solver) => ({
      solver,
      values: sigmas.map((s) => {
        const e = aggregate(rows.filter((r) => r.task === task && r.solver === solver && r.sigmaY === s))[0];
        return e ? e.psnr.mean : null;
      }),
    })),
  }));
  const points = aggregate(rows.filter((r) => r.nfe > 0)).map((e) => ({ solver: e.solver, task: e.task, nfe: e.nfe, psnr: e.psnr.mean, seconds: e.seconds.mean }));
  return { sigmas, bySigma, points, solvers };
}

// Runs in the page: builds the uPlot charts from DATA.
const PAGE_SCRIPT = `
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];
const col = (i) => colors[i % colors.length];
function scatter(el, title, xLabel, yLabel, pts, yKey, logX) {
  const xs = [...new Set(pts.map((p) => p.nfe))].sort((a, b) => a - b);
  const series = DATA.solvers.map((s, i) => ({ label: s, stroke: col(i), paths: () => null, points: { show: true, size: 9, fill: col(i) } }));
  const data = [xs, ...DATA.solvers.map((s) => xs.map((x) => { const p = pts.filter((q) => q.solver === s && q.nfe === x); return p.length ? p.reduce((a, q) => a + q[yKey], 0) / p.length : null; }))];
  new uPlot({ title, width: 520, height: 300, scales: { x: { time: false, distr: logX ? 3 : 1 } }, axes: [{ label: xLabel }, { label: yLabel }], series: [{ label: xLabel }, ...series] }, data, el);
}
const charts = document.getElementById('charts');
if (DATA.sigmas.length > 1) for (const t of DATA.bySigma) {
  const el = document.createElement('div'); charts.appendChild(el);
  new uPlot({ title: 'PSNR vs σ_y · ' + t.task, width: 520, height: 300, scales: { x: { time: false } }, axes: [{ label: 'σ_y' }, { label: 'PSNR (dB)' }],
    series: [{ label: 'σ_y' }, ...t.series.map((s, i) => ({ label: s.solver, stroke: col(i), points: { show: true } }))] }, [DATA.sigmas, ...t.series.map((s) => s.values)], el);
}
for (const [title, key, unit] of [['PSNR vs NFE (mean over tasks)', 'psnr', 'PSNR (dB)'], ['wall time vs NFE (mean over tasks)', 'seconds', 'time per image (s)']]) {
  const el = document.createElement('div'); charts.appendChild(el);
  scatter(el, title, 'NFE', unit, DATA.points, key, true);
}`;

/** The page for `rows` (with pictures under `root/images`). */
export function studyReportHtml(rows: StudyRow[], root: string, opts: { title: string; command?: string; maxImages?: number }): string {
  const { js, css } = uplotAssets();
  const entries = aggregate(rows);
  const data = JSON.stringify(plotData(rows)).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(opts.title)}</title>
<style>${css}
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222 } table { border-collapse: collapse; margin: 8px 0 16px }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right } th { background: #f4f4f4 } td:first-child, td:nth-child(3) { text-align: left }
.grid td, .grid th { text-align: center } .grid img { width: 96px; image-rendering: pixelated } #charts > div { display: inline-block; margin: 8px }
code { background: #f4f4f4; padding: 2px 4px }</style></head><body>
<h1>${esc(opts.title)}</h1>
${opts.command ? `<p>Made by <code>${esc(opts.command)}</code></p>` : ''}
<p>Mean ± 95 % confidence interval over images × seeds (Student t). Best-of-N, where drawn, is in <code>table.md</code> and never mixed with these numbers.</p>
<h2>Results</h2>${table(entries)}
<h2>Plots</h2><div id="charts"></div>
<h2>Images</h2>${grids(rows, root, opts.maxImages ?? 6)}
<script>${js}</script><script>const DATA = ${data};${PAGE_SCRIPT}</script>
</body></html>
`;
}
