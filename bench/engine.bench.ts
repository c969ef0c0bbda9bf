/**
 * `npm run bench:engine` — every preset at a fixed budget of 100 NFE on its box-inpainting
 * measurement: wall time, time inside score-model calls, and engine overhead (everything else) as
 * a ratio to score-model time, measured in this run; once with an analytic Gaussian prior (the
 * "network" is nearly free, so the table shows the engine's own per-iteration cost) and once with
 * the bundled fmnist-32 network (what a user waits for). Then DDiff ÷ DAPS wall time at the same
 * NFE, and the preview cost: DDiff with its Preview nodes removed versus every Preview emitting a
 * frame every iteration (throttleMs 0, every 1), as a ratio of wall times. Last, the buffer pool:
 * time per iteration of DDiff and DAPS (analytic prior, 64×64) with ÷ without the runtime's pool.
 */
import { readFileSync } from 'node:fs';
import { compile } from '../src/engine/compile/compile';
import type { GraphDocument } from '../src/engine/graph/format';
import { parseGraph } from '../src/engine/graph/format';
import type { RunReport } from '../src/engine/runtime/events';
import { runPlan } from '../src/engine/runtime/run';
import { BufferPool } from '../src/engine/tensor/pool';

const NFE = 100;
const PRESETS = ['ddiff', 'ddiff-hqs', 'diff-pnp-admm', 'diff-pnp-hqs', 'diffpir', 'dps', 'daps'];
/** Iterations and repeats of the preview-cost runs (median ratio of alternating pairs). */
const PREVIEW_ITERATIONS = 200,
  PREVIEW_REPEATS = 5;
/** Image size, iterations (a DAPS level costs ~30 DDiff iterations: 100 Langevin steps) and repeats of the pool runs. */
const POOL_SIZE = 64,
  POOL_ITERATIONS: Record<string, number> = { ddiff: 300, daps: 10 },
  POOL_REPEATS = 7;

const preset = (name: string): GraphDocument => parseGraph(JSON.parse(readFileSync(new URL(`../resources/presets/${name}.lagrange.json`, import.meta.url), 'utf8')));

/** The document with every ScoreModel replaced by the analytic Gaussian prior (defaults: N(0, 0.5²I)). */
function analytic(doc: GraphDocument): GraphDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.kind === 'ScoreModel' ? { ...n, params: { source: 'gaussian' } } : n)) };
}

/** The network prior on the CPU provider, so the numbers do not depend on which GPU is present. */
function network(doc: GraphDocument): GraphDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.kind === 'ScoreModel' ? { ...n, params: { ...n.params, provider: 'cpu' } } : n)) };
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

/** Runs every preset at NFE evaluations under `prior`, prints the table, returns the reports by preset. */
async function presetTable(prior: (d: GraphDocument) => GraphDocument): Promise<{ reports: Map<string, RunReport>; shape: string }> {
  const rows: string[][] = [['preset', 'iters', 'NFE', 'wall ms', 'score ms', 'engine ms', 'engine÷score', 'ms/NFE']];
  const reports = new Map<string, RunReport>();
  let shape = '';
  for (const name of PRESETS) {
    const perIteration = name === 'daps' ? 5 : 1; // DAPS: 5 PF-ODE evaluations per annealing level
    const plan = await compile(prior(preset(name)), { iterations: NFE / perIteration });
    shape = plan.imageShape.join('×');
    await runPlan(plan); // warm-up run: V8 optimises the kernels, ONNX Runtime allocates
    const { report: r } = await runPlan(plan);
    reports.set(name, r);
    rows.push([
      name,
      `${r.iterations}`,
      `${r.nfe}`,
      r.wallMs.toFixed(0),
      r.scoreModelMs.toFixed(1),
      r.engineMs.toFixed(0),
      (r.engineMs / r.scoreModelMs).toFixed(1),
      (r.wallMs / r.nfe).toFixed(2),
    ]);
  }
  printTable(rows);
  return { reports, shape };
}

/** DDiff without Preview nodes (and the edges into them). */
function withoutPreviews(doc: GraphDocument): GraphDocument {
  const previews = new Set(doc.nodes.filter((n) => n.kind === 'Preview').map((n) => n.id));
  return { ...doc, nodes: doc.nodes.filter((n) => !previews.has(n.id)), edges: doc.edges.filter((e) => !previews.has(e.target)) };
}

/** DDiff with every Preview node emitting every iteration. */
function everyIteration(doc: GraphDocument): GraphDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.kind === 'Preview' ? { ...n, params: { ...n.params, every: 1 } } : n)) };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** Wall-time ratio with/without previews for DDiff under `prior` (median of alternating pairs), and frames per run. */
async function previewCost(prior: (d: GraphDocument) => GraphDocument): Promise<{ ratio: number; without: number; withP: number; frames: number; previews: number }> {
  const base = prior(preset('ddiff'));
  const bare = await compile(withoutPreviews(base), { iterations: PREVIEW_ITERATIONS });
  const full = await compile(everyIteration(base), { iterations: PREVIEW_ITERATIONS });
  let frames = 0;
  const count = (e: { type: string }): void => void (e.type === 'preview' && frames++);
  // Both with throttleMs 0: the per-iteration yield to the event loop is the same, only frames differ.
  await runPlan(bare, { stopAt: 2, throttleMs: 0 });
  await runPlan(full, { stopAt: 2, throttleMs: 0 });
  const ratios: number[] = [],
    withouts: number[] = [],
    withs: number[] = [];
  for (let i = 0; i < PREVIEW_REPEATS; i++) {
    const a = (await runPlan(bare, { throttleMs: 0 })).report.wallMs;
    frames = 0;
    const b = (await runPlan(full, { throttleMs: 0, onEvent: count })).report.wallMs;
    withouts.push(a);
    withs.push(b);
    ratios.push(b / a);
  }
  return { ratio: median(ratios), without: median(withouts), withP: median(withs), frames, previews: full.previews.length };
}

/** The document with its ImageInput resized to size×size. */
function sized(doc: GraphDocument, size: number): GraphDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.kind === 'ImageInput' ? { ...n, params: { ...n.params, size } } : n)) };
}

/**
 * Milliseconds per iteration of preset `name` (analytic prior, POOL_SIZE px) with and without
 * the runtime's buffer pool, each the fastest of POOL_REPEATS alternating runs (the run least
 * disturbed by the rest of the machine), and the buffers the pool had to create in one run.
 */
async function poolGain(name: string): Promise<{ ratio: number; withMs: number; withoutMs: number; iterations: number; created: number }> {
  const iterations = POOL_ITERATIONS[name]!;
  const plan = await compile(sized(analytic(preset(name)), POOL_SIZE), { iterations });
  await runPlan(plan);
  await runPlan(plan, { pool: false });
  let withMs = Infinity,
    withoutMs = Infinity,
    created = 0;
  for (let i = 0; i < POOL_REPEATS; i++) {
    withoutMs = Math.min(withoutMs, (await runPlan(plan, { pool: false })).report.wallMs / iterations);
    const pool = new BufferPool();
    withMs = Math.min(withMs, (await runPlan(plan, { pool })).report.wallMs / iterations);
    created = pool.stats.allocated;
  }
  return { ratio: withMs / withoutMs, withMs, withoutMs, iterations, created };
}

console.log(`analytic prior, ${NFE} NFE per preset`);
const a = await presetTable(analytic);
console.log(`\nanalytic Gaussian prior, ${a.shape}, box inpainting; DAPS includes 100 Langevin steps per level in engine time.`);

console.log(`\nbundled fmnist-32 network (ONNX Runtime, CPU), ${NFE} NFE per preset`);
const n = await presetTable(network);
console.log(`\n${n.shape}, box inpainting; DPS's symmetric-difference VJP costs 2 extra forwards per NFE (its NFE column counts them).`);

const ddiffOverDaps = (r: Map<string, RunReport>): string => (r.get('ddiff')!.wallMs / r.get('daps')!.wallMs).toFixed(2);
console.log(`\nDDiff time ÷ DAPS time at ${NFE} NFE: network prior ${ddiffOverDaps(n.reports)}, analytic prior ${ddiffOverDaps(a.reports)}`);

for (const [label, prior] of [
  ['analytic prior', analytic],
  ['fmnist-32 network', network],
] as const) {
  const c = await previewCost(prior);
  console.log(
    `preview cost, DDiff ${PREVIEW_ITERATIONS} iterations, ${label}: with ÷ without previews = ${c.ratio.toFixed(2)} ` +
      `(${c.withP.toFixed(0)} ms vs ${c.without.toFixed(0)} ms; ${c.previews} previews, ${c.frames} frames, median of ${PREVIEW_REPEATS})`,
  );
}

const gains: [string, Awaited<ReturnType<typeof poolGain>>][] = [];
for (const [label, name] of [
  ['DDiff', 'ddiff'],
  ['DAPS', 'daps'],
] as const)
  gains.push([label, await poolGain(name)]);
console.log(
  `buffer pool, analytic prior, ${POOL_SIZE}×${POOL_SIZE}: time per iteration with ÷ without the pool = ` +
    gains
      .map(([label, g]) => `${label} ${g.ratio.toFixed(2)} (${g.withMs.toFixed(2)} vs ${g.withoutMs.toFixed(2)} ms; ${g.created} buffers created in ${g.iterations} iterations)`)
      .join(', ') +
    ` (fastest of ${POOL_REPEATS} alternating runs each)`,
);
