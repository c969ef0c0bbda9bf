/**
 * What `lagrange tune` writes beside results.jsonl: the tuned preset, tune.json (the search as
 * data), report.md with one SVG plot per tuned parameter under plots/, and report.html with the
 * same tables and the plots inlined (self-contained, no network).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanCi } from '../eval/table';
import { OBJECTIVES } from './halving';
import { paramPlotSvg } from './plot';
import { pointText } from './space';
import type { ParamRange } from './space';
import type { SplitScores, TuneResult } from './tune';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** "25.31 ± 1.20": mean and 95 % interval half-width (Student t), or the mean alone for one value. */
export function pmText(v: number[] | undefined, digits: number): string {
  if (!v?.length) return 'n/a';
  const c = meanCi(v);
  return Number.isNaN(c.ci) ? c.mean.toFixed(digits) : `${c.mean.toFixed(digits)} ± ${c.ci.toFixed(digits)}`;
}

const rangeText = (r: ParamRange): string =>
  r.kind === 'list' ? r.values.map(String).join(', ') : `${r.lo} … ${r.hi}${r.kind === 'log' ? ' (log)' : ''}${r.integer ? ', integers' : ''}`;

/** The file name of a parameter's plot. */
export const plotFile = (r: ParamRange): string => `plots/${r.node}.${r.param}.svg`.replace(/[^\w./-]/g, '_');

/** Rows [split, point, n, PSNR, SSIM, (LPIPS,) residual] of the defaults-vs-best comparison. */
function comparison(res: TuneResult): string[][] {
  const lp = !!(res.test.best.lpips && res.test.defaults.lpips);
  const row = (splitName: string, who: string, s: SplitScores): string[] => [
    splitName,
    who,
    String(s.psnr.length),
    pmText(s.psnr, 2),
    pmText(s.ssim, 3),
    ...(lp ? [pmText(s.lpips, 3)] : []),
    pmText(s.residual, 3),
  ];
  // Both points ran on the same images and seeds, in the same order: per-image differences
  // cancel the image-to-image spread that dominates each mean's interval.
  const diff = (a: SplitScores, b: SplitScores): SplitScores | undefined => {
    if (a.psnr.length !== b.psnr.length) return undefined;
    const d = (x: number[] | undefined, y: number[] | undefined): number[] => (x && y ? x.map((v, i) => v - y[i]!) : []);
    return { psnr: d(a.psnr, b.psnr), ssim: d(a.ssim, b.ssim), residual: d(a.residual, b.residual), ...(lp ? { lpips: d(a.lpips, b.lpips) } : {}) };
  };
  const paired = (splitName: string, a: SplitScores, b: SplitScores): string[][] => {
    const d = diff(a, b);
    return d ? [row(splitName, 'tuned − preset (paired)', d)] : [];
  };
  return [
    ['split', 'parameters', 'n', 'PSNR (dB)', 'SSIM', ...(lp ? ['LPIPS'] : []), 'residual'],
    row('validation', 'preset', res.val.defaults),
    row('validation', `tuned (trial ${res.best})`, res.val.best),
    ...paired('validation', res.val.best, res.val.defaults),
    row('test', 'preset', res.test.defaults),
    row('test', `tuned (trial ${res.best})`, res.test.best),
    ...paired('test', res.test.best, res.test.defaults),
  ];
}

/** Rows [trial, parameters, score per rung] of every trial, best first at the deepest rung. */
function trialRows(res: TuneResult): string[][] {
  const dir = OBJECTIVES[res.spec.objective] === 'max' ? -1 : 1;
  const depth = (t: TuneResult['trials'][number]): number => Object.keys(t.scores).length;
  const deepest = (t: TuneResult['trials'][number]): number => t.scores[depth(t) - 1] ?? Number.NaN;
  const sorted = [...res.trials].sort(
    (a, b) => depth(b) - depth(a) || (Number.isNaN(deepest(a)) ? 1 : Number.isNaN(deepest(b)) ? -1 : dir * (deepest(a) - deepest(b))) || a.id - b.id,
  );
  return [
    ['trial', 'parameters', ...res.rungs.map((g) => `rung ${g.index} (K ${g.iterations}, ${g.images} img)`), 'note'],
    ...sorted.map((t) => [
      String(t.id),
      pointText(t.point),
      ...res.rungs.map((g) => {
        const s = t.scores[g.index];
        return s === undefined ? '' : Number.isNaN(s) ? 'failed' : s.toFixed(4);
      }),
      [t.id === 0 ? 'preset values' : '', t.id === res.best ? 'best' : '', t.error ? `error: ${t.error.slice(0, 100)}` : ''].filter(Boolean).join('; '),
    ]),
  ];
}

const mdTable = (rows: string[][]): string =>
  [
    `| ${rows[0]!.join(' | ')} |`,
    `|${rows[0]!.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
const htmlTable = (rows: string[][]): string =>
  `<table><tr>${rows[0]!.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows
    .slice(1)
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;

/** ", paired difference +1.28 ± 0.59" when both lists score the same images, else nothing. */
function paired(a: number[] | undefined, b: number[] | undefined): string {
  if (!a || !b || a.length !== b.length || a.length === 0 || a === b) return '';
  const d = a.map((v, i) => v - b[i]!);
  const t = pmText(d, 3);
  return `, paired difference ${d.reduce((s, x) => s + x, 0) >= 0 ? '+' : ''}${t}`;
}

/** The lines of the printed summary (also the head of report.md). */
export function tuneSummary(res: TuneResult, presetPath: string): string[] {
  const { spec } = res;
  const obj = spec.objective;
  const avg = (s: SplitScores): number => {
    const v = s[obj] ?? [];
    return v.reduce((t, x) => t + x, 0) / v.length;
  };
  const better = OBJECTIVES[obj] === 'max' ? avg(res.val.best) > avg(res.val.defaults) : avg(res.val.best) < avg(res.val.defaults);
  return [
    `${spec.preset} on ${spec.task}: ${res.trials.length} trials (trial 0 = the preset's values) over ${res.rungs.length} rung(s), ${res.nfe} NFE`,
    `best: trial ${res.best}: ${pointText(res.trials[res.best]!.point)} (preset: ${pointText(res.trials[0]!.point)})`,
    `validation ${obj}: preset ${pmText(res.val.defaults[obj], 3)}, tuned ${pmText(res.val.best[obj], 3)}${paired(res.val.best[obj], res.val.defaults[obj])}${better ? '' : ' (no trial beat the preset; its values are kept)'}`,
    `test ${obj}: preset ${pmText(res.test.defaults[obj], 3)}, tuned ${pmText(res.test.best[obj], 3)}${paired(res.test.best[obj], res.test.defaults[obj])} (${res.test.best.psnr.length} image(s) × seed(s))`,
    `tuned preset: ${presetPath}`,
  ];
}

function markdown(res: TuneResult, presetPath: string, command: string): string {
  const { spec } = res;
  return [
    `# Tuning ${spec.preset} on ${spec.task}`,
    '',
    ...tuneSummary(res, presetPath).map((l) => `- ${l}`),
    '',
    `Objective ${spec.objective} (${OBJECTIVES[spec.objective] === 'max' ? 'higher' : 'lower'} is better), σ_y ${spec.sigma ?? 0.05}${spec.prior ? `, prior ${spec.prior}` : ''}, search seed ${spec.seed}. ` +
      'Scores are means over images × seeds with a 95 % Student-t interval; validation and test images are disjoint sets the command was given. Regenerate (resumes from results.jsonl) with:',
    '',
    '```',
    command,
    '```',
    '',
    '## Preset vs tuned, full budget',
    '',
    mdTable(comparison(res)),
    '',
    '## Search space',
    '',
    ...res.ranges.map((r) => `- \`${r.node}.${r.param}\`: ${rangeText(r)}`),
    '',
    '## Trials',
    '',
    mdTable(trialRows(res)),
    '',
    '## Parameter vs score',
    '',
    ...res.ranges.map((r) => `![${r.node}.${r.param}](${plotFile(r)})`),
    '',
  ].join('\n');
}

function html(res: TuneResult, presetPath: string, command: string): string {
  const { spec } = res;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Tuning ${esc(spec.preset)} on ${esc(spec.task)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px}th{background:#f4f4f4}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}.plots svg{margin:4px}</style></head><body>
<h1>Tuning ${esc(spec.preset)} on ${esc(spec.task)}</h1>
<ul>${tuneSummary(res, presetPath)
    .map((l) => `<li>${esc(l)}</li>`)
    .join('')}</ul>
<pre>${esc(command)}</pre>
<h2>Preset vs tuned, full budget</h2>${htmlTable(comparison(res))}
<h2>Parameter vs score</h2><div class="plots">${res.ranges.map((r) => paramPlotSvg(res, r)).join('\n')}</div>
<h2>Trials</h2>${htmlTable(trialRows(res))}
</body></html>
`;
}

/** Files written, relative to the output folder. */
export interface TuneFiles {
  preset: string;
  json: string;
  markdown: string;
  html: string;
  plots: string[];
}

/** Writes the tuned preset, tune.json, report.md (+ plots/) and report.html into `out`. */
export function writeTuneFiles(res: TuneResult, out: string, command: string): TuneFiles {
  const preset = join(out, `${res.tuned.name}.lagrange.json`);
  mkdirSync(join(out, 'plots'), { recursive: true });
  writeFileSync(preset, JSON.stringify(res.tuned, null, 2) + '\n');
  const { tuned: _doc, ...data } = res;
  writeFileSync(join(out, 'tune.json'), JSON.stringify({ ...data, command, preset }, null, 2) + '\n');
  const plots = res.ranges.map((r) => {
    writeFileSync(join(out, plotFile(r)), paramPlotSvg(res, r) + '\n');
    return join(out, plotFile(r));
  });
  writeFileSync(join(out, 'report.md'), markdown(res, preset, command));
  writeFileSync(join(out, 'report.html'), html(res, preset, command));
  return { preset, json: join(out, 'tune.json'), markdown: join(out, 'report.md'), html: join(out, 'report.html'), plots };
}
