/**
 * DPS with a learned variance on the ONNX backend: the DPS preset with Denoise.v wired into
 * ZUpdate (variance 'learned'), on a tiny learn_sigma network (out = [x/2, tanh(0.8x)], 2C
 * channels, card `outputs.learnedVariance`). Fused (v from the inlined network's extra channels)
 * and node by node (v from the host's evaluation) agree with the JS runtime, with the same NFE;
 * the refusals reach the user through the JS executor with the node named.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import { withMeasurement, withPrior } from '../graph/edit';
import { parseGraph } from '../graph/format';
import type { GraphDocument } from '../graph/format';
import { runPlan } from '../runtime/run';
import { norm, sub } from '../tensor/tensor';
import { prepareBackend } from '../runtime/backend';
import { GraphBuilder } from './builder';

const [C, H, W] = [1, 32, 32];

/** A model folder whose network outputs [x/2, tanh(0.8x)] (learned) or x/2 alone. */
function tinyNetwork(learned: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'lagrange-learn-sigma-'));
  const g = new GraphBuilder('learn-sigma');
  const x = g.input('x', ['N', C, H, W]);
  const t = g.input('t', ['N']);
  const eps = g.node('Mul', [x, g.scalar(0.5)]);
  const out = learned ? g.node('Concat', [eps, g.node('Tanh', [g.node('Mul', [x, g.scalar(0.8)])])], { axis: { i: 1 } }) : eps;
  g.output(out, 'out', ['N', learned ? 2 * C : C, H, W]);
  g.output(g.node('Identity', [t]), 't_seen', ['N']); // keeps t a used input
  writeFileSync(join(dir, 'model.onnx'), g.toBytes());
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      format: 'lagrange-model',
      version: 1,
      name: learned ? 'tiny-learn-sigma' : 'tiny-eps',
      description: 'test network',
      dataset: 'none',
      license: 'MIT',
      training: 'none',
      image: { channels: C, height: H, width: W, range: [-1, 1] },
      parameterization: 'eps',
      schedule: { kind: 'linear', T: 1000, betaMin: 0.0001, betaMax: 0.02 },
      inputs: { x: 'x', t: 't' },
      outputs: { prediction: 'out', ...(learned ? { learnedVariance: true } : {}) },
      timestep: { dtype: 'float32', scale: 1 },
      files: { model: 'model.onnx' },
    }),
  );
  return dir;
}

/** The DPS preset on `model`, ZUpdate set by `zupdate`, Denoise.v wired into it unless `wire` is false. */
function dpsDoc(model: string, zupdate: Record<string, unknown>, wire = true): GraphDocument {
  const file = new URL('../../../resources/presets/dps.lagrange.json', import.meta.url);
  const doc = withMeasurement(withPrior(parseGraph(JSON.parse(readFileSync(file, 'utf8'))), model, true), { kind: 'simulate', task: 'inpaint-box', image: 'sample:astronaut' });
  const anc = doc.nodes.find((n) => n.id === 'ancestral')!;
  anc.params = { ...anc.params, ...zupdate };
  for (const n of doc.nodes) if (n.kind === 'ScoreModel') n.params = { ...n.params, provider: 'cpu' };
  if (wire) doc.edges.push({ source: 'z', sourcePort: 'v', target: 'ancestral', targetPort: 'v' });
  return doc;
}

const OPTS = { iterations: 6, samples: 2, seed: 3 };
const LEARNED = tinyNetwork(true);

describe("ZUpdate variance 'learned' on the ONNX backend", () => {
  it('fused and node by node match the JS runtime (v from the network), with the same NFE', async () => {
    const plan = await compile(dpsDoc(LEARNED, { variance: 'learned' }), OPTS);
    const js = await runPlan(plan);
    const fixed = await runPlan(await compile(dpsDoc(LEARNED, { variance: 'fixed' }), OPTS));
    expect(norm(sub(js.result!, fixed.result!)) / norm(fixed.result!)).toBeGreaterThan(1e-3); // v ≠ −1 changes the noise
    expect(js.report.nfe).toBe(fixed.report.nfe); // v costs no network evaluation
    for (const fused of [true, false]) {
      const backend = await prepareBackend(plan, fused ? 'onnx' : 'onnx-node', { prefetchNoise: false });
      try {
        expect(backend.step.form).toBe(fused ? 'fused' : 'node');
        expect(backend.summary).not.toMatch(/ran in JS: [^)]*(Denoise|ZUpdate)/);
        const got = await runPlan(plan, { backend });
        expect(norm(sub(got.result!, js.result!)) / norm(js.result!)).toBeLessThan(1e-4);
        expect(got.report.nfe).toBe(js.report.nfe);
      } finally {
        await backend.release();
      }
    }
  }, 60_000);

  it('a fixed run on a learn_sigma network is the same as before v existed (ε̂ unchanged, v unread)', async () => {
    const plan = await compile(dpsDoc(LEARNED, { variance: 'fixed' }, false), OPTS);
    const js = await runPlan(plan);
    const backend = await prepareBackend(plan, 'onnx', { prefetchNoise: false });
    try {
      expect(backend.step.form).toBe('fused');
      const got = await runPlan(plan, { backend });
      expect(norm(sub(got.result!, js.result!)) / norm(js.result!)).toBeLessThan(1e-4);
    } finally {
      await backend.release();
    }
  }, 60_000);

  // Both are known when the graph compiles, so the compiler refuses them before any iteration.
  it.each([
    ['the prior has no learned variance', () => dpsDoc(tinyNetwork(false), { variance: 'learned' }), /needs a prior with learned variance .*tiny-eps has none/],
    ['v is not wired', () => dpsDoc(LEARNED, { variance: 'learned' }, false), /needs its 'v' input wired from a Denoise node's 'v' output/],
  ])('refuses when %s, at compile time, naming the node', async (_, doc, message) => {
    await expect(compile(doc(), { ...OPTS, iterations: 2 })).rejects.toThrow(new RegExp(`node "ancestral" \\(ZUpdate\\): variance "learned" ${message.source}`));
  });

  it.each([['ζ ≠ 0', () => dpsDoc(LEARNED, { variance: 'learned', zeta: 0.5 }), /needs ζ = 0, η = 1, posteriorStd 'ddim'; got ζ = 0\.5/, /got ζ = 0\.5/]])(
    'refuses when %s: JS and ONNX fail alike, naming the node',
    async (_, doc, message, reason) => {
      const plan = await compile(doc(), { ...OPTS, iterations: 2 });
      const js = await runPlan(plan).catch((e: Error) => e.message);
      expect(js).toMatch(/^node "ancestral" \(ZUpdate\) at iteration 0: /);
      expect(js).toMatch(message);
      const backend = await prepareBackend(plan, 'onnx', { prefetchNoise: false });
      try {
        expect(backend.step.form).toBe('node');
        expect(backend.summary).toMatch(reason); // the fused form's reason
        expect(await runPlan(plan, { backend }).catch((e: Error) => e.message)).toBe(js);
      } finally {
        await backend.release();
      }
    },
    60_000,
  );
});
