/**
 * `npm run bench:reference` — the engine's DDiff preset next to a plain PyTorch loop of the same
 * algorithm (bench/torch_reference.py) on the same box-inpainting measurement, same weights, same
 * iterations, batch 1, both on the CPU with the same thread count. Prints engine ÷ PyTorch for wall
 * time, time per NFE, network time and everything else, and both PSNRs (close, not equal: the two
 * draw their noise from different generators). A second pass with the fresh noise switched off and
 * the engine's initial x_t handed to PyTorch checks that both take the same steps (max |Δx|).
 * Skips with a line naming the packages when the interpreter lacks torch, onnx or numpy.
 * Environment: LAGRANGE_PYTHON (default /usr/bin/python3), BENCH_ITERATIONS (default: the
 * preset's 1000), BENCH_DEVICE=cuda (PyTorch side only).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/engine/compile/compile';
import type { GraphDocument } from '../src/engine/graph/format';
import { parseGraph } from '../src/engine/graph/format';
import { readNpy, writeNpy } from '../src/engine/io/npy';
import { runPlan } from '../src/engine/runtime/run';
import { simulate, writeMeasurement } from '../src/engine/simulate';
import { createRng } from '../src/engine/tensor/rng';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const PYTHON = process.env.LAGRANGE_PYTHON ?? '/usr/bin/python3';
const DEVICE = process.env.BENCH_DEVICE ?? 'cpu';

/** What bench/torch_reference.py prints. */
interface TorchResult {
  device: string;
  backend: string;
  threads: number;
  nfe: number;
  wall_s: number;
  net_s: number;
  other_s: number;
  psnr_db: number;
  max_abs_check_err: number;
  torch: string;
}

/**
 * Physical cores: distinct (physical id, core id) pairs of /proc/cpuinfo. onnxPrior.ts sets no
 * intraOpNumThreads, so ONNX Runtime runs this many intra-op threads; torch gets the same number.
 */
function physicalCores(): number {
  try {
    const pairs = new Set<string>();
    let pkg = '0';
    for (const line of readFileSync('/proc/cpuinfo', 'utf8').split('\n')) {
      const [k, v] = line.split(':').map((s) => s.trim());
      if (k === 'physical id') pkg = v!;
      else if (k === 'core id') pairs.add(`${pkg}/${v}`);
    }
    return pairs.size || availableParallelism();
  } catch {
    return availableParallelism();
  }
}

const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log(`bench:reference: skipped — ${PYTHON} cannot import torch, onnx and numpy (apt-get install python3-torch python3-onnx python3-numpy)`);
  process.exit(0);
}

const load = loadavg()[0]!; // before our own work raises it

// The shipped preset, forced onto the CPU provider; everything else (previews, metrics) as shipped.
const doc = parseGraph(JSON.parse(readFileSync(join(ROOT, 'resources/presets/ddiff.lagrange.json'), 'utf8')));
for (const n of doc.nodes) if (n.kind === 'ScoreModel') n.params = { ...n.params, provider: 'cpu' };
const iterations = process.env.BENCH_ITERATIONS ? Number(process.env.BENCH_ITERATIONS) : undefined;
const compileDoc = (d: GraphDocument): ReturnType<typeof compile> => compile(d, iterations ? { iterations } : {});
const plan = await compileDoc(doc);
const K = plan.schedule.K;

// The measurement the plan made, re-simulated to get its bundle; identical y or we stop.
const meas = plan.measurement;
const m = simulate({ task: meas.op.id, image: meas.x!, seed: plan.seed, noise: { kind: 'gaussian', sigma: meas.sigmaY } });
if (m.y.data.some((v, i) => v !== meas.y.data[i])) throw new Error("re-simulated measurement differs from the plan's (Simulate seed or operator params changed?)");
const dir = mkdtempSync(join(tmpdir(), 'lagrange-ref-'));
writeMeasurement(dir, m);

// The step parameters after the task overrides, so both loops take the same steps.
const kinds = ['Denoise', 'XUpdate', 'ZUpdate', 'DualUpdate'];
const { mode, ...params } = Object.assign({}, ...plan.body.filter((s) => kinds.includes(s.kind)).map((s) => s.params)) as Record<string, unknown>;
if (mode !== 'gradient') throw new Error(`the DDiff preset's XUpdate mode is ${String(mode)}; the reference implements 'gradient'`);

await runPlan(plan, { stopAt: 5 }); // warm-up: ONNX Runtime's first runs allocate
const { report: r } = await runPlan(plan);

const threads = physicalCores();
/** Runs bench/torch_reference.py on the bundle; `extra` adds or overrides arguments. */
function torchRun(backend: 'eager' | 'onednn', extra: string[] = [], stepParams: Record<string, unknown> = params): TorchResult {
  const args = [
    'bench/torch_reference.py',
    dir,
    '--threads',
    String(threads),
    '--iterations',
    String(K),
    '--seed',
    String(plan.seed),
    '--params',
    JSON.stringify(stepParams),
    '--device',
    DEVICE,
    '--backend',
    backend,
    ...extra,
  ];
  const py = spawnSync(PYTHON, args, { cwd: ROOT, encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`bench/torch_reference.py --backend ${backend} failed (${py.status}):\n${py.stdout}\n${py.stderr}`);
  return JSON.parse(py.stdout.trim().split('\n').at(-1)!) as TorchResult;
}
// Eager is what a plain PyTorch loop gets; oneDNN shows how much of the gap is Debian's generic BLAS.
const fastest = DEVICE === 'cpu' ? 'onednn' : 'eager';
const refs = DEVICE === 'cpu' ? [torchRun('eager'), torchRun('onednn')] : [torchRun('eager')];

// Same steps, checked exactly: no fresh noise (t0 above every t) and the engine's initial x_t.
const zNode = doc.nodes.find((n) => n.kind === 'ZUpdate')!;
const task = `task:${meas.op.id}`;
const quiet: GraphDocument = structuredClone(doc);
quiet.overrides[task] = { ...quiet.overrides[task], [zNode.id]: { ...quiet.overrides[task]?.[zNode.id], t0: 1e9 } };
const quietPlan = await compileDoc(quiet);
const xtState = quietPlan.states.find((s) => s.init === 'noise')!;
const init = tensor([1, ...quietPlan.imageShape]);
createRng(quietPlan.seed, `init/${xtState.id}`).fillNormal(init.data, xtState.noiseScale); // as runPlan seeds a noise State
writeNpy(join(dir, 'init.npy'), init);
const engineX = (await runPlan(quietPlan)).result!;
torchRun(fastest, ['--init', join(dir, 'init.npy'), '--save-x', join(dir, 'x_torch.npy'), '--warmup', '0'], { ...params, t0: 1e9 });
const torchX = readNpy(join(dir, 'x_torch.npy'));
const maxDiff = engineX.data.reduce((d, v, i) => Math.max(d, Math.abs(v - torchX.data[i]!)), 0);
rmSync(dir, { recursive: true, force: true });

const eng = { wall: r.wallMs / 1000, net: r.scoreModelMs / 1000, other: r.engineMs / 1000, nfe: r.nfe, psnr: r.metrics?.psnr?.[0] ?? NaN };
const per = (wall: number, nfe: number): number => (1000 * wall) / nfe;
const cells = (label: string, e: number, p: (t: TorchResult) => number): string[] => [label, e.toFixed(2), ...refs.flatMap((t) => [p(t).toFixed(2), (e / p(t)).toFixed(2)])];
const rows: string[][] = [
  ['', 'engine', ...refs.flatMap((t) => [`PyTorch ${t.backend}`, `engine÷${t.backend}`])],
  cells('wall s', eng.wall, (t) => t.wall_s),
  cells('ms per NFE', per(eng.wall, eng.nfe), (t) => per(t.wall_s, t.nfe)),
  cells('network s', eng.net, (t) => t.net_s),
  cells('non-network s', eng.other, (t) => t.other_s),
  ['PSNR dB', eng.psnr.toFixed(2), ...refs.flatMap((t) => [t.psnr_db.toFixed(2), `Δ ${(eng.psnr - t.psnr_db).toFixed(2)}`])],
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
console.log(`DDiff, box inpainting on fmnist-32 heldout/03 (${plan.imageShape.join('×')}), ${K} iterations, batch 1; NFE engine ${eng.nfe}, PyTorch ${refs[0]!.nfe}`);
for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log(`\nsame steps: with fresh noise off and the engine's initial x_t, max |x_engine − x_PyTorch| = ${maxDiff.toExponential(1)} after ${K} iterations`);
console.log(
  `engine: ${r.provider}, ONNX Runtime intra-op threads = ${threads} (its default: physical cores), preset previews/metrics every 50 included; ` +
    `PyTorch ${refs[0]!.torch} on ${refs[0]!.device}, torch.set_num_threads(${refs[0]!.threads}), bare loop; ` +
    `weights from model.onnx, max |ε − ε_ref| = ${refs[0]!.max_abs_check_err.toExponential(1)}. ` +
    `PSNRs differ through the noise streams only. Load average at the start: ${load.toFixed(2)} on ${availableParallelism()} CPUs (other work skews every number).`,
);
