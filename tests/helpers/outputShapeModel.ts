/**
 * Tiny ONNX score networks with a chosen prediction shape, for tests of the card's output promise
 * (src/engine/priors/outputShape.test.ts, tests/cli.boundary.test.ts). The network maps
 * x (N×1×32×32) to `eps` = Concat(x, 2x) when `doubled`, else x; the card promises 1×32×32.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import type { Dim } from '../../src/engine/onnx/builder';

/** The image shape C×H×W the cards promise. */
export const [C, H, W] = [1, 32, 32];

/**
 * Writes a model folder (model.onnx + model.json) and returns its path.
 * @param opts.dims - the per-sample output dims the graph declares (strings are symbolic)
 * @param opts.learnedVariance - whether the card declares a 2C-channel output
 */
export function outputShapeModel(opts: { doubled: boolean; dims: Dim[]; learnedVariance?: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lagrange-outshape-'));
  const g = new GraphBuilder('outshape');
  const x = g.input('x', ['N', C, H, W]);
  const t = g.input('t', ['N']);
  const out = opts.doubled ? g.node('Concat', [x, g.node('Mul', [x, g.scalar(2)])], { axis: { i: 1 } }) : g.node('Identity', [x]);
  g.output(out, 'eps', ['N', ...opts.dims]);
  g.output(g.node('Identity', [t]), 't_seen', ['N']); // keeps t a used input
  writeFileSync(join(dir, 'model.onnx'), g.toBytes());
  const card = {
    format: 'lagrange-model',
    version: 1,
    name: 'outshape',
    description: 'test network',
    dataset: 'none',
    license: 'MIT',
    training: 'none',
    image: { channels: C, height: H, width: W, range: [-1, 1] },
    parameterization: 'eps',
    schedule: { kind: 'linear', T: 1000, betaMin: 0.0001, betaMax: 0.02 },
    inputs: { x: 'x', t: 't' },
    outputs: { prediction: 'eps', ...(opts.learnedVariance ? { learnedVariance: true } : {}) },
    timestep: { dtype: 'float32', scale: 1 },
    files: { model: 'model.onnx' },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
  return dir;
}
