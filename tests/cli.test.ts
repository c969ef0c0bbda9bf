/**
 * The CLI as a user runs it: `lagrange tasks` and `lagrange simulate` for every task on a bundled
 * sample, the bundle read back, and one-line errors for bad input.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { readPng } from '../src/engine/io/image';
import { readNpy } from '../src/engine/io/npy';
import { operatorSpecs } from '../src/engine/operators/registry';
import { readMeasurement } from '../src/engine/simulate';
import { norm, sub } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const SAMPLE = join(ROOT, 'resources/samples/astronaut.png');
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-cli-'));

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'lagrange', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('lagrange tasks', () => {
  it('lists every task with parameters rescaled to the size', async () => {
    const r = await run('tasks', '--size', '64');
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    for (const s of operatorSpecs()) expect(text).toContain(s.id);
    expect(text).toMatch(/deblur-gauss[\s\S]*"kernelSize":15/);
  });
});

describe('lagrange simulate', () => {
  it.each(operatorSpecs().map((s) => s.id))('writes a readable bundle for %s', async (task) => {
    const out = join(tmp, task);
    const r = await run('simulate', '--task', task, '--image', SAMPLE, '--size', '64', '--seed', '1', '--out', out);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    for (const f of ['x.npy', 'y.npy', 'task.json', 'x.png', 'y.png']) expect(existsSync(join(out, f))).toBe(true);
    const record = JSON.parse(readFileSync(join(out, 'task.json'), 'utf8'));
    expect(record).toMatchObject({ task, seed: 1, noise: { kind: 'gaussian', sigma: 0.05 }, sigma01: 0.025 });
    expect(record.shapes.x).toEqual([1, 3, 64, 64]);
    const m = readMeasurement(out);
    // y − A(x) is the noise: its per-entry std must be σ_y = 0.05 (within sampling error).
    const resid = sub(m.y, m.op.apply(m.x!));
    const std = norm(resid) / Math.sqrt(resid.data.length);
    expect(std).toBeGreaterThan(0.045);
    expect(std).toBeLessThan(0.055);
    const view = readPng(join(out, 'y.png'));
    expect(view.shape[1]).toBe(3);
  });

  it('stores the image it used: --size resizes to n×n in [−1, 1]', async () => {
    const x = readNpy(join(tmp, 'hdr', 'x.npy'));
    expect(x.shape).toEqual([1, 3, 64, 64]);
    expect(Math.min(...x.data)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...x.data)).toBeLessThanOrEqual(1);
  });

  it('is reproducible by seed and changes with it', async () => {
    const a = join(tmp, 'seedA'),
      b = join(tmp, 'seedB');
    await run('simulate', '--task', 'inpaint-random', '--image', SAMPLE, '--size', '32', '--seed', '4', '--out', a);
    await run('simulate', '--task', 'inpaint-random', '--image', SAMPLE, '--size', '32', '--seed', '4', '--out', b);
    expect(readFileSync(join(a, 'y.npy'))).toEqual(readFileSync(join(b, 'y.npy')));
    const c = join(tmp, 'seedC');
    await run('simulate', '--task', 'inpaint-random', '--image', SAMPLE, '--size', '32', '--seed', '5', '--out', c);
    expect(readFileSync(join(a, 'mask.npy'))).not.toEqual(readFileSync(join(c, 'mask.npy')));
  });

  it('detects an edited mask when reading a bundle back', async () => {
    const dir = join(tmp, 'inpaint-box');
    const mask = readFileSync(join(dir, 'mask.npy'));
    // A flipped exponent bit: 1.0 becomes 0.25 (0x40 would make it Infinity, which the reader refuses first).
    mask[mask.length - 1] = mask[mask.length - 1]! ^ 0x01;
    writeFileSync(join(dir, 'mask.npy'), mask);
    expect(() => readMeasurement(dir)).toThrow(/mask\.npy: differs from the mask that task inpaint-box with seed 1 produces/);
  });
});

describe('lagrange errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['a missing file', ['--image', 'nope.png'], /^lagrange: --image nope\.png: no such file; bundled samples: resources\/samples\//],
    ['an unsupported file type', ['--image', join(ROOT, 'package.json')], /package\.json: unsupported image type; use \.png or \.npy/],
    ['an unknown task', ['--task', 'denoise-magic'], /^lagrange: unknown task 'denoise-magic'; known tasks: sr4, /],
    ['a negative σ', ['--sigma', '-0.1'], /^lagrange: --sigma must be ≥ 0, got -0\.1$/],
    ['a size SR ×4 cannot take', ['--task', 'sr4', '--size', '30'], /^lagrange: operator sr4: .*divisible by the factor 4.*\(image 3×30×30\)$/],
  ];
  it.each(cases)('reports %s in one line', async (_what, extra, pattern) => {
    const args = { '--task': 'hdr', '--image': SAMPLE, '--out': join(tmp, 'err') } as Record<string, string>;
    for (let i = 0; i < extra.length; i += 2) args[extra[i]!] = extra[i + 1]!;
    const r = await run('simulate', ...Object.entries(args).flat());
    expect(r.code).not.toBe(0);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(pattern);
  });

  it('names a corrupt PNG', async () => {
    const bad = join(tmp, 'bad.png');
    writeFileSync(bad, 'not a png at all');
    const r = await run('simulate', '--task', 'hdr', '--image', bad, '--out', join(tmp, 'err'));
    expect(r.err[0]).toMatch(/bad\.png: not a readable PNG/);
  });
});

describe('the lagrange binary', () => {
  it('runs through npx-style bin with a one-line error and exit code 1, no stack trace', () => {
    const bin = join(ROOT, 'bin/lagrange.mjs');
    const ok = execFileSync(process.execPath, [bin, 'tasks'], { encoding: 'utf8' });
    expect(ok).toContain('phase-retrieval');
    const bad = spawnSync(process.execPath, [bin, 'simulate', '--task', 'hdr', '--image', 'missing.png', '--out', tmp], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});

describe('lagrange validate', () => {
  const graph = join(ROOT, 'tests/fixtures/graphs/ddiff-gaussian.lagrange.json');

  it('summarises a valid graph and exits 0', async () => {
    const r = await run('validate', graph);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/ddiff-gaussian\.lagrange\.json: ok — "ddiff-gaussian", 12 nodes, 20 edges \(ImageInput, BoxInpainting, /);
  });

  it('lists every error and exits 1', async () => {
    const doc = JSON.parse(readFileSync(graph, 'utf8'));
    doc.nodes[4].params.iterations = -2;
    doc.edges.splice(8, 1);
    const bad = join(tmp, 'bad.lagrange.json');
    writeFileSync(bad, JSON.stringify(doc));
    const r = await run('validate', bad);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(2);
    expect(r.err[0]).toMatch(/bad\.lagrange\.json: error: nodes\[4\]\.params\.iterations: .*got -2 \(node "sched" \(Schedule\)\)/);
    expect(r.err[1]).toMatch(/error: nodes\[8\]: node "x" \(XUpdate\): input 'measurement' \(measurement\) is not connected/);
  });

  it('names the file for unreadable JSON', async () => {
    const bad = join(tmp, 'broken.lagrange.json');
    writeFileSync(bad, '{ nope');
    const r = await run('validate', bad);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^lagrange: .*broken\.lagrange\.json: not valid JSON/);
  });
});

describe('lagrange presets and run', () => {
  it('lists the presets', async () => {
    const r = await run('presets');
    expect(r.out.map((l) => l.split(' ')[0])).toEqual(['daps', 'ddiff-hqs', 'ddiff', 'diff-pnp-admm', 'diff-pnp-hqs', 'diffpir', 'dps', 'latent-daps', 'latent-ddiff']);
  });

  it('runs a preset on a simulated task and writes result, previews and report', async () => {
    const out = join(tmp, 'run-ddiff');
    const r = await run('run', 'ddiff', '--task', 'inpaint-box', '--image', SAMPLE, '--size', '32', '--iterations', '60', '--samples', '2', '--seed', '3', '--out', out);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^ddiff on inpaint-box: 60 iterations, 60 NFE, .* onnx:cpu, seed 3$/);
    // the bundled prior is grayscale: the RGB picture is converted to luma
    expect(readNpy(join(out, 'result.npy')).shape).toEqual([2, 1, 32, 32]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ graph: 'ddiff', seed: 3, samples: 2, iterations: 60, nfe: 60, task: 'inpaint-box', sigmaY: 0.05, provider: 'onnx:cpu' });
    expect(report.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(report.metrics.psnr).toHaveLength(2);
    expect(readPng(join(out, 'previews.png')).shape[2]).toBe(32);
  });

  it('runs from a measurement bundle, with JSON-lines events', async () => {
    const bundle = join(tmp, 'inpaint-random');
    await run('simulate', '--task', 'inpaint-random', '--image', SAMPLE, '--size', '32', '--out', bundle);
    const r = await run('run', 'diffpir', '--measurement', bundle, '--prior', 'gaussian', '--json', '--out', join(tmp, 'run-dp'));
    expect(r.code).toBe(0);
    const events = r.out.map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(20);
    expect(events.at(-1)).toMatchObject({ type: 'done', report: { graph: 'diffpir', nfe: 20 } });
  });

  it('runs DPS on the bundled network prior with the exact VJP (vjp "exact": reverse mode, no extra forwards)', async () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'resources/presets/dps.lagrange.json'), 'utf8')) as { nodes: { id: string; params: Record<string, unknown> }[] };
    doc.nodes.find((n) => n.id === 'prior')!.params.vjp = 'exact';
    const file = join(tmp, 'dps-exact.lagrange.json');
    writeFileSync(file, JSON.stringify(doc));
    const out = join(tmp, 'run-dps-exact');
    const r = await run('run', file, '--task', 'inpaint-box', '--iterations', '5', '--out', out);
    expect(r.code, r.err.join('\n')).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { nfe: number; vjpCalls: number; effectiveParams: Record<string, Record<string, unknown>> };
    expect(report.effectiveParams.prior!.vjp).toBe('exact');
    expect(report.nfe).toBe(5); // one forward per step; the backward pass is not a network evaluation
    expect(report.vjpCalls).toBe(5);
  });

  it('runs DPS on the bundled network prior with the finite-difference VJP (3 forwards per step)', async () => {
    const out = join(tmp, 'run-dps');
    // The preset's default is the exact VJP; the finite difference stays a choice.
    const r = await run('run', 'dps', '--task', 'inpaint-box', '--iterations', '10', '--set', 'prior.vjp=symmetric-fd', '--json', '--out', out);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ graph: 'dps', iterations: 10, vjpCalls: 10, nfe: 30, provider: 'onnx:cpu' });
    expect(report.effectiveParams.prior.vjp).toBe('symmetric-fd');
  });

  it('forces an execution provider, or says why it cannot and how to get it', async () => {
    const cpu = await run('run', 'diffpir', '--provider', 'cpu', '--iterations', '3', '--out', join(tmp, 'pv-cpu'));
    expect(cpu.code).toBe(0);
    expect(cpu.out[0]).toMatch(/onnx:cpu, seed 0$/);
    const cuda = await run('run', 'diffpir', '--provider', 'cuda', '--iterations', '3', '--out', join(tmp, 'pv-cuda'));
    if (cuda.code !== 0)
      expect(cuda.err[0]).toMatch(/node "prior" \(ScoreModel\): .*model\.onnx: no execution provider could load it: cuda: .*(ONNXRUNTIME_NODE_INSTALL=cuda12|CUDA)/);
    const bad = await run('run', 'diffpir', '--provider', 'tpu', '--out', join(tmp, 'pv-bad'));
    expect(bad.err[0]).toBe("lagrange: --provider must be auto, cuda, dml, webgpu, cpu; got 'tpu'");
  });

  it("takes the backend from --backend, else the graph's run.backend, else js", async () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'resources/presets/ddiff.lagrange.json'), 'utf8')) as { run: Record<string, unknown> };
    doc.run.backend = 'onnx';
    const file = join(tmp, 'ddiff-onnx.lagrange.json');
    writeFileSync(file, JSON.stringify(doc));
    const quick = ['--prior', 'gaussian', '--image', SAMPLE, '--size', '16', '--iterations', '5'];
    type Placed = { node: string; ranOn: string; provider: string }[];
    const backendOf = async (target: string, name: string, ...flag: string[]): Promise<{ line: string; backend: unknown; placement: Placed }> => {
      const r = await run('run', target, ...quick, ...flag, '--out', join(tmp, name));
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(join(tmp, name, 'report.json'), 'utf8')) as { backend: unknown; placement: Placed };
      return { line: r.out[0]!, backend: report.backend, placement: report.placement };
    };
    const fromDoc = await backendOf(file, 'be-doc');
    expect(fromDoc.backend).toBe('onnx');
    expect(fromDoc.line).toContain(', backend onnx');
    // report.json says where every step of the iteration ran.
    expect(fromDoc.placement.map((p) => p.node)).toEqual(['z', 'x', 'noise', 'dual']);
    expect(fromDoc.placement.every((p) => p.ranOn === 'onnx' && p.provider === 'cpu')).toBe(true);
    expect((await backendOf(file, 'be-flag', '--backend', 'js')).backend).toBe('js');
    const none = await backendOf('ddiff', 'be-none');
    expect(none.backend).toBe('js');
    expect(none.placement.every((p) => p.ranOn === 'js' && p.provider === 'js')).toBe(true);
    expect((await backendOf('ddiff', 'be-flag-onnx', '--backend', 'onnx')).backend).toBe('onnx');
    const bad = await run('run', file, '--backend', 'gpu', '--out', join(tmp, 'be-bad'));
    expect(bad.err[0]).toBe("lagrange: --backend must be js or onnx; got 'gpu'");
  });

  it('--set wins over the task override, is recorded in effectiveParams, and the saved graph re-runs to the same numbers', async () => {
    const common = ['--task', 'inpaint-box', '--iterations', '40', '--seed', '1'];
    const stock = await run('run', 'ddiff', ...common, '--out', join(tmp, 'set-stock'));
    const tiny = await run('run', 'ddiff', ...common, '--set', 'x.gamma0=0.001', '--set', 'noise.t0=3', '--out', join(tmp, 'set-tiny'));
    expect(stock.code).toBe(0);
    expect(tiny.code).toBe(0);
    const report = (dir: string) => JSON.parse(readFileSync(join(tmp, dir, 'report.json'), 'utf8'));
    expect(report('set-tiny').effectiveParams.x.gamma0).toBe(0.001);
    expect(report('set-tiny').effectiveParams.noise.t0).toBe(3);
    expect(report('set-stock').effectiveParams.x.gamma0).toBe(30); // the preset's inpaint-box value
    expect(report('set-tiny').metrics.psnr[0]).not.toBeCloseTo(report('set-stock').metrics.psnr[0], 1);
    const again = await run('run', join(tmp, 'set-tiny', 'graph.lagrange.json'), '--iterations', '40', '--seed', '1', '--out', join(tmp, 'set-again'));
    expect(again.code).toBe(0);
    expect(report('set-again').metrics.psnr).toEqual(report('set-tiny').metrics.psnr);
    expect(report('set-again').hash).toBe(report('set-tiny').hash);
  });

  it('refuses a --set naming no node or parameter, or out of range, before running', async () => {
    const r = await run('run', 'ddiff', '--set', 'x.gamma0=0', '--out', join(tmp, 'set-bad'));
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe('lagrange: --set x.gamma0=0: node "x" (XUpdate) parameter \'gamma0\' must be a number > 0');
    expect((await run('run', 'ddiff', '--set', 'xx.gamma0=1', '--out', join(tmp, 'set-bad'))).err[0]).toMatch(/graph "ddiff" has no node "xx"; nodes: image, A, measure/);
  });

  it('names an unknown preset and lists the known ones', async () => {
    const r = await run('run', 'ddif', '--out', join(tmp, 'x'));
    expect(r.err[0]).toBe('lagrange: ddif: no such graph file or preset; presets: daps, ddiff-hqs, ddiff, diff-pnp-admm, diff-pnp-hqs, diffpir, dps, latent-daps, latent-ddiff');
  });
});
