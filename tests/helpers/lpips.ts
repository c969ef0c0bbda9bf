/**
 * Stand-in LPIPS model folders for tests that need no Python: graphs written with the engine's
 * ONNX builder whose "distance" is known in closed form (the mean squared difference), or that
 * break the LPIPS contract on purpose (wrong output shape, one-channel inputs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/engine/onnx/builder';

/** A valid card for the stand-in networks (overridden field by field in tests). */
export const FAKE_CARD = {
  format: 'lagrange-lpips',
  version: 1,
  name: 'test-mse',
  description: 'test stand-in: mean squared difference over C, H, W',
  architecture: 'alex',
  weights: { kind: 'random', version: 'none', package: 'none', sources: [] },
  license: 'MIT',
  input: { channels: 3, range: [-1, 1], minSide: 31 },
  inputs: { x: 'x', ref: 'ref' },
  outputs: { distance: 'lpips' },
  files: { model: 'model.onnx' },
};

/**
 * Writes a stand-in network into `dir`: `mse` gives mean((x − ref)²) per sample as N×1×1×1,
 * `diff` the unreduced N×3×H×W difference, `gray` an MSE on N×1×H×W inputs.
 */
export function fakeLpips(dir: string, kind: 'mse' | 'diff' | 'gray' = 'mse', card: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const g = new GraphBuilder('fake-lpips');
  const c = kind === 'gray' ? 1 : 3;
  const d = g.node('Sub', [g.input('x', ['N', c, 'H', 'W']), g.input('ref', ['N', c, 'H', 'W'])]);
  if (kind === 'diff') g.output(d, 'lpips', ['N', 3, 'H', 'W']);
  else g.output(g.node('ReduceMean', [g.node('Mul', [d, d])], { axes: { ints: [1, 2, 3] }, keepdims: { i: 1 } }), 'lpips', ['N', 1, 1, 1]);
  writeFileSync(join(dir, 'model.onnx'), g.toBytes());
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...FAKE_CARD, ...card }));
  return dir;
}

/** What the `mse` stand-in should give: mean over C·H·W of (clip(x) − clip(ref))², per sample. */
export function clippedMse(x: Float32Array, ref: Float32Array, n: number): number[] {
  const per = x.length / n;
  const clip = (v: number): number => Math.min(1, Math.max(-1, v));
  return Array.from({ length: n }, (_, s) => {
    let acc = 0;
    for (let i = s * per; i < (s + 1) * per; i++) acc += (clip(x[i]!) - clip(ref[i]!)) ** 2;
    return acc / per;
  });
}
