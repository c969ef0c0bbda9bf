/**
 * Parameter-vs-score scatter plots of a search as standalone SVG (no script, no network): one
 * point per (trial, rung), coloured by rung, the best trial ringed, the preset's value dashed.
 */
import type { TuneResult } from './tune';
import type { ParamRange } from './space';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const RUNG_COLOURS = ['#9aa5b1', '#4c8bf5', '#e8710a', '#188038', '#a142f4'];
const W = 440,
  H = 260,
  L = 56,
  R = 12,
  T = 36,
  B = 40;

/** Short tick labels: 0.001, 2.5, 1e+4. */
const tick = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(3)));

/** log10 positions of round values (1, 2, 5 × 10^k) between 10^lo and 10^hi: decades when there are enough. */
function logTicks(lo: number, hi: number): number[] {
  for (const mantissas of [[1], [1, 3], [1, 2, 5]]) {
    const ticks: number[] = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) for (const m of mantissas) ticks.push(Math.log10(m) + k);
    const inside = ticks.filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9);
    if (inside.length >= 3) return inside;
  }
  return [lo, hi];
}

/**
 * The plot of range `r`: x the parameter (log axis for a log range, one slot per value for a
 * list), y the objective. Trials without a finite score at a rung are left out of that rung.
 */
export function paramPlotSvg(result: TuneResult, r: ParamRange): string {
  const { trials, rungs, best } = result;
  const label = `${r.node}.${r.param}`;
  const xOf = (v: unknown): number => {
    if (r.kind === 'list') return r.values.findIndex((x) => JSON.stringify(x) === JSON.stringify(v));
    return r.kind === 'log' ? Math.log10(v as number) : (v as number);
  };
  const pts = trials.flatMap((t) =>
    rungs.flatMap((g) => {
      const s = t.scores[g.index];
      const x = xOf(t.point[r.node]?.[r.param]);
      return s !== undefined && Number.isFinite(s) && Number.isFinite(x) && (r.kind !== 'list' || x >= 0) ? [{ x, y: s, rung: g.index, id: t.id }] : [];
    }),
  );
  const [x0, x1] = r.kind === 'list' ? [-0.5, r.values.length - 0.5] : r.kind === 'log' ? [Math.log10(r.lo), Math.log10(r.hi)] : [r.lo, r.hi];
  const raw = xOf(trials[0]!.point[r.node]?.[r.param]);
  const def = Number.isFinite(raw) && (r.kind !== 'list' || raw >= 0) ? raw : Number.NaN; // the preset's value may lie outside the range
  const xs = [x0, x1, ...(Number.isFinite(def) ? [def] : [])];
  const lo = Math.min(...xs),
    hi = Math.max(...xs);
  const ys = pts.map((p) => p.y);
  let y0 = ys.length ? Math.min(...ys) : 0,
    y1 = ys.length ? Math.max(...ys) : 1;
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = 0.06 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  const sx = (x: number): number => L + ((x - lo) / (hi - lo || 1)) * (W - L - R);
  const sy = (y: number): number => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#ccc"/>`,
    `<text x="${L}" y="14" font-weight="bold">${esc(result.spec.objective)} vs ${esc(label)}${r.kind === 'log' ? ' (log)' : ''}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    out.push(`<text x="${L - 4}" y="${sy(y) + 4}" text-anchor="end">${tick(y)}</text>`);
  }
  const xticks = r.kind === 'list' ? r.values.map((_, i) => i) : r.kind === 'log' ? logTicks(lo, hi) : Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  for (const x of xticks) {
    const text = r.kind === 'list' ? String(r.values[x]) : tick(r.kind === 'log' ? 10 ** x : x);
    out.push(`<text x="${sx(x)}" y="${H - B + 14}" text-anchor="middle">${esc(text)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">${esc(label)}</text>`);
  if (Number.isFinite(def)) out.push(`<line x1="${sx(def)}" x2="${sx(def)}" y1="${T}" y2="${H - B}" stroke="#666" stroke-dasharray="4 3"><title>preset value</title></line>`);
  for (const p of pts) {
    const c = RUNG_COLOURS[p.rung % RUNG_COLOURS.length]!;
    out.push(
      `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${c}" fill-opacity="0.8"><title>trial ${p.id}, rung ${p.rung}: ${p.y.toFixed(4)}</title></circle>`,
    );
    if (p.id === best && p.rung === rungs.length - 1)
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="7" fill="none" stroke="#d93025" stroke-width="2"/>`);
  }
  // The legend sits above the frame, one entry per rung, so it never hides a point.
  rungs.forEach((g, i) => {
    const x = L + 4 + 124 * i;
    out.push(`<circle cx="${x}" cy="26" r="3.5" fill="${RUNG_COLOURS[i % RUNG_COLOURS.length]}"/><text x="${x + 7}" y="30">rung ${i}: K ${g.iterations}, ${g.images} img</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
