/**
 * `npm run bench:engine` — every preset at a fixed budget of 100 NFE on a 32 px box-inpainting
 * measurement: wall time, time inside score-model calls, and engine overhead (everything else) as
 * a ratio to score-model time, measured in this run. With the analytic prior the "network" is
 * nearly free, so the ratio shows the engine's own per-iteration cost.
 */
import { readFileSync } from 'node:fs';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { runPlan } from '../src/engine/runtime/run';

const NFE = 100;
const rows: string[][] = [['preset', 'iters', 'NFE', 'wall ms', 'score ms', 'engine ms', 'engine÷score', 'ms/NFE']];
for (const name of ['ddiff', 'ddiff-hqs', 'diff-pnp-admm', 'diff-pnp-hqs', 'diffpir', 'dps', 'daps']) {
  const doc = parseGraph(JSON.parse(readFileSync(new URL(`../resources/presets/${name}.lagrange.json`, import.meta.url), 'utf8')));
  const perIteration = name === 'daps' ? 5 : 1; // DAPS: 5 PF-ODE evaluations per annealing level
  const plan = await compile(doc, { iterations: NFE / perIteration });
  await runPlan(plan, { stopAt: 2 }); // warm-up
  const { report: r } = await runPlan(plan);
  rows.push([name, `${r.iterations}`, `${r.nfe}`, r.wallMs.toFixed(0), r.scoreModelMs.toFixed(1), r.engineMs.toFixed(0), (r.engineMs / r.scoreModelMs).toFixed(1), (r.wallMs / r.nfe).toFixed(2)]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log('\nanalytic Gaussian prior, 1×3×32×32, box inpainting; DAPS includes 100 Langevin steps per level in engine time.');
