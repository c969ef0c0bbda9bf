/**
 * DPS with the exact denoiser VJP (reverse mode through the network, ScoreModel `vjp: "exact"`)
 * next to the symmetric finite difference (`symmetric-fd`) on the bundled fmnist-32 prior: the
 * DPS preset with only the prior's `vjp` changed, run by `lagrange eval` on held-out images
 * (σ_y 0.05, seed 0, one sample), then per task PSNR mean ± 95 % t-interval, the paired
 * difference and wall seconds per image.
 *
 *   npx tsx bench/dpsVjp.eval.ts [tasks] [count] [iterations] [out] [set]
 *
 * Defaults: inpaint-box, 8 images (heldout/00–07), the preset's 1000 iterations, runs/dps-vjp.
 * `set` (e.g. `guide.zeta=0.7`) is passed to both variants as `--set`-style node values through
 * a copy of the preset; the study folder resumes, so a second call only prints.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanCi } from '../src/engine/eval/table';

const [tasks = 'inpaint-box', count = '8', iterations = '1000', out = 'runs/dps-vjp', set = ''] = process.argv.slice(2);
const ROOT = new URL('..', import.meta.url).pathname;
const VARIANTS = { exact: 'exact', fd: 'symmetric-fd' } as const;

interface Node {
  id: string;
  kind: string;
  params: Record<string, unknown>;
}

/** The DPS preset with the prior's VJP set to `vjp` and the `set` values applied, as a graph file. */
function variant(name: string, vjp: string): string {
  const doc = JSON.parse(readFileSync(join(ROOT, 'resources/presets/dps.lagrange.json'), 'utf8')) as {
    name: string;
    nodes: Node[];
    overrides?: Record<string, Record<string, Record<string, unknown>>>;
  };
  doc.name = `dps-${name}`;
  for (const n of doc.nodes) if (n.kind === 'ScoreModel') n.params.vjp = vjp;
  for (const spec of set ? set.split(',') : []) {
    const [path, value] = spec.split('=') as [string, string];
    const [id, param] = path.split('.') as [string, string];
    doc.nodes.find((n) => n.id === id)!.params[param] = Number(value);
    // A value given here wins over the per-task table, as `--set` does.
    for (const o of Object.values(doc.overrides ?? {})) if (o[id]) delete o[id][param];
  }
  const file = join(out, `dps-${name}.lagrange.json`);
  writeFileSync(file, JSON.stringify(doc, null, 1));
  return file;
}

interface Row {
  solver: string;
  task: string;
  image: string;
  psnr: number[];
  wallMs: number;
  nfe: number;
}

mkdirSync(out, { recursive: true });
const files = Object.entries(VARIANTS).map(([name, vjp]) => variant(name, vjp));
// prettier-ignore
const args = ['bin/lagrange.mjs', 'eval', '--solvers', files.join(','), '--tasks', tasks, '--images', 'model:fmnist-32/heldout', '--count', count,
  '--prior', 'fmnist-32', '--iterations', iterations, '--workers', '2', '--out', join(out, 'study')];
console.log(`node ${args.join(' ')}`);
execFileSync('node', args, { cwd: ROOT, stdio: 'inherit' });

const rows = readFileSync(join(out, 'study', 'results.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Row)
  .filter((r) => 'psnr' in r);
const fmt = (v: number[]): string => {
  const { mean, ci } = meanCi(v);
  return `${mean.toFixed(2)} ± ${ci.toFixed(2)}`;
};
console.log(`| task | vjp | n | PSNR (dB) | s / image | NFE |\n|---|---|---|---|---|---|`);
for (const task of tasks.split(',')) {
  const by = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, rows.filter((r) => r.task === task && r.solver.includes(`dps-${v}`))]));
  for (const [v, rs] of Object.entries(by))
    if (rs.length)
      console.log(
        `| ${task} | ${VARIANTS[v as keyof typeof VARIANTS]} | ${rs.length} | ${fmt(rs.map((r) => r.psnr[0]!))} | ${fmt(rs.map((r) => r.wallMs / 1000))} | ${rs[0]!.nfe} |`,
      );
  const paired = by.exact!.flatMap((a) => by.fd!.filter((b) => b.image === a.image).map((b) => a.psnr[0]! - b.psnr[0]!));
  if (paired.length) console.log(`paired exact − symmetric-fd on ${task}: ${fmt(paired)} dB (n = ${paired.length})`);
}
if (!existsSync(join(out, 'study', 'results.jsonl'))) process.exitCode = 1;
