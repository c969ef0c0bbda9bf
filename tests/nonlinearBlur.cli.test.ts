/**
 * `lagrange run ddiff --operator resources/operators/nonlinear-blur-net`: DDiff's gradient data
 * step through a learned nonlinear forward model whose VJP is derived from apply.onnx at load.
 * A few iterations run end to end and write a finite result and a report naming the operator.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli';
import { readNpy } from '../src/engine/io/npy';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lagrange-blurnet-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lagrange run ddiff on the nonlinear blur network', () => {
  it('runs a few iterations and writes the result, the report and the graph it ran', async () => {
    const out = join(dir, 'r');
    const r = await cli('run', 'ddiff', '--operator', join(ROOT, 'resources/operators/nonlinear-blur-net'), '--iterations', '4', '--seed', '1', '--out', out);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect([...r.out, ...r.err].join('\n')).toMatch(/VJP: derived from apply\.onnx by reverse mode/);
    for (const f of ['result.npy', 'result.png', 'report.json', 'graph.lagrange.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const x = readNpy(join(out, 'result.npy'));
    expect(x.shape).toEqual([1, 1, 32, 32]);
    expect(Array.from(x.data).every(Number.isFinite)).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { status: string; iterations: number; task: string; metrics: { residual: number[] } };
    expect(report).toMatchObject({ status: 'done', iterations: 4, task: 'onnx-operator' });
    expect(Number.isFinite(report.metrics.residual[0])).toBe(true);
    const graph = JSON.parse(readFileSync(join(out, 'graph.lagrange.json'), 'utf8')) as { nodes: { kind: string; params: { path?: string } }[] };
    expect(graph.nodes.find((n) => n.kind === 'OnnxOperator')?.params.path).toMatch(/nonlinear-blur-net$/);
  }, 60_000);
});
