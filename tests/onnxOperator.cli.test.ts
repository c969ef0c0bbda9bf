/**
 * ONNX operator folders through the CLI as a user runs it: `operators check` passes the fixture
 * blur and fails its twin naming the adjoint; `simulate --operator` writes a bundle that
 * `run --measurement` rebuilds; DDiff with fmnist-32 restores a held-out garment clearly better
 * than the blurred measurement; the JS and fused ONNX backends agree to float32 rounding; and
 * `run --operator` replaces the preset's operator node, saying so in the run's notes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli as run } from './helpers/cli';
import { readNpy } from '../src/engine/io/npy';
import { psnr } from '../src/engine/metrics/psnr';
import { norm, sub } from '../src/engine/tensor/tensor';
import { writeConvOperator } from './helpers/onnxOperators';

const ROOT = new URL('..', import.meta.url).pathname;
const HELDOUT = join(ROOT, 'resources/models/fmnist-32/heldout/00.png');
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-onnx-op-cli-'));
const good = writeConvOperator(join(tmp, 'good'));
const broken = writeConvOperator(join(tmp, 'broken'), { broken: true });

const report = (dir: string): { task: string; warnings: string[]; metrics: { psnr: number[] } } => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));

describe('lagrange operators check <dir>', () => {
  it('passes the fixture blur and fails its twin, naming the adjoint', async () => {
    const ok = await run('operators', 'check', good);
    expect(ok.code).toBe(0);
    expect(ok.out.join('\n')).toMatch(/✓ adjoint: relative error .* ≤ 1\.0e-5/);
    expect(ok.out.at(-1)).toMatch(/^ok:/);
    const bad = await run('operators', 'check', broken);
    expect(bad.code).not.toBe(0);
    expect(bad.err.join('\n')).toMatch(/operator check failed: adjoint: relative error .* > 1\.0e-5 — the adjoint is not the transpose of apply/);
    const json = await run('operators', 'check', broken, '--json');
    expect(JSON.parse(json.out[0]!).checks.find((c: { name: string }) => c.name === 'adjoint').ok).toBe(false);
  });

  it('refuses a folder without operator.json', async () => {
    const r = await run('operators', 'check', tmp);
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toMatch(/nor an operator folder \(no operator\.json there\)/);
  });
});

describe('solving through an ONNX operator folder', () => {
  const bundle = join(tmp, 'bundle');

  it('simulates a bundle that records the folder; DDiff restores the garment clearly better than y', async () => {
    const sim = await run('simulate', '--operator', good, '--image', HELDOUT, '--out', bundle);
    expect(sim.code, sim.err.join('\n')).toBe(0);
    expect(JSON.parse(readFileSync(join(bundle, 'task.json'), 'utf8')).params.path).toBe(good);
    const out = join(tmp, 'ddiff-js');
    const r = await run('run', 'ddiff', '--measurement', bundle, '--prior', 'fmnist-32', '--iterations', '100', '--out', out);
    expect(r.code, r.err.join('\n')).toBe(0);
    const x = readNpy(join(bundle, 'x.npy')),
      y = readNpy(join(bundle, 'y.npy'));
    const measured = psnr(y, x)[0]!,
      restored = psnr(readNpy(join(out, 'result.npy')), x)[0]!;
    if (process.env.ONNX_OPERATOR_REPORT) console.log({ measured, restored });
    expect(report(out).task).toBe('onnx-operator');
    // Measured: 22.9 dB against the measurement's 16.8 dB.
    expect(restored).toBeGreaterThan(measured + 4);
  });

  it('gives the same result on the JS and the fused ONNX backend, the note naming the inlined files', async () => {
    const js = join(tmp, 'short-js'),
      onnx = join(tmp, 'short-onnx');
    for (const [out, backend] of [
      [js, 'js'],
      [onnx, 'onnx'],
    ] as const) {
      const r = await run('run', 'ddiff', '--measurement', bundle, '--prior', 'fmnist-32', '--iterations', '5', '--samples', '2', '--backend', backend, '--out', out);
      expect(r.code, r.err.join('\n')).toBe(0);
    }
    const a = readNpy(join(js, 'result.npy')),
      b = readNpy(join(onnx, 'result.npy'));
    const diff = norm(sub(b, a)) / norm(a);
    if (process.env.ONNX_OPERATOR_REPORT) console.log({ jsVsFused: diff });
    expect(diff).toBeLessThan(1e-4);
    expect(report(onnx).warnings.join('\n')).toMatch(/fused: .*operator conv5 \(.*good\) inlined from its own apply\.onnx and adjoint\.onnx/);
  });

  it('runs a preset with --operator in place of its operator node, saying its task overrides do not apply', async () => {
    const out = join(tmp, 'with-operator');
    const r = await run('run', 'ddiff', '--operator', good, '--image', HELDOUT, '--prior', 'fmnist-32', '--iterations', '2', '--out', out);
    expect(r.code, r.err.join('\n')).toBe(0);
    const rep = report(out);
    expect(rep.task).toBe('onnx-operator');
    expect(rep.warnings.join('\n')).toMatch(/operator: OnnxOperator on .*good in place of the graph's operator node; the graph's task overrides \(task:.*\) do not apply/);
    expect(rep.warnings.join('\n')).toMatch(
      /node "measure" \(Simulate\): operator conv5 \(.*good\): adjoint\.onnx passes the adjoint test \(relative error .*\); VJP: the adjoint/,
    );
    const graph = JSON.parse(readFileSync(join(out, 'graph.lagrange.json'), 'utf8')) as { nodes: { kind: string; params: { path?: string } }[] };
    expect(graph.nodes.find((n) => n.kind === 'OnnxOperator')?.params.path).toBe(good);
    const wrong = await run('run', 'ddiff', '--operator', good, '--measurement', bundle, '--out', join(tmp, 'x'));
    expect(wrong.err.join('\n') + wrong.out.join('\n')).toMatch(/either --measurement or --operator/);
  });
});
