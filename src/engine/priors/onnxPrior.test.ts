/**
 * The ONNX path against the native analytic prior: tests/fixtures/models/gaussian-{eps,x0,v} are
 * the Gaussian prior N(μ, 0.5²I) exported by tools/export/gaussian_prior_onnx.py in the three
 * parameterisations; after the adapters they must predict the same ε as gaussianPrior.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { x0FromEps } from '../diffusion/vp';
import { gaussianPrior } from './gaussianMixture';
import { loadOnnxPrior } from './onnxPrior';

const FIXTURES = new URL('../../../tests/fixtures/models/', import.meta.url).pathname;
const [C, H, W] = [3, 8, 8];
// μ as in tools/export/gaussian_prior_onnx.py: 0.6·sin(0.5r + 0.3q + c)
const mean = new Float32Array(C * H * W);
for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) mean[c * H * W + r * W + q] = 0.6 * Math.sin(0.5 * r + 0.3 * q + c);
const analytic = gaussianPrior({ shape: [C, H, W], mean, std: 0.5 });

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-onnx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(['eps', 'x0', 'v'])('ONNX Gaussian prior, %s-parameterised', (param) => {
  it('agrees with the analytic prior to 1e-5 (relative) in its own output space, on a batch', async () => {
    const model = await loadOnnxPrior(join(FIXTURES, `gaussian-${param}`), { providers: ['cpu'] });
    expect(model.provider).toBe('onnx:cpu');
    expect(model.shape).toEqual([C, H, W]);
    const rng = createRng(4);
    const rel = (a: Tensor, b: Tensor): number => {
      let num = 0,
        den = 0;
      b.data.forEach((v, i) => {
        num += (a.data[i]! - v) ** 2;
        den += v * v;
      });
      return Math.sqrt(num / den);
    };
    for (const t of [10, 100, 500, 999]) {
      const xt = tensor([2, C, H, W]);
      rng.fillNormal(xt.data);
      const [eps, ref] = [await model.predictEps(xt, t), await analytic.predictEps(xt, t)];
      const ab = model.schedule.alphaBarAt(t);
      const [x0, refX0] = [x0FromEps(xt, eps, ab), x0FromEps(xt, ref, ab)];
      // x0-networks are exact in x₀; converting to ε divides float32 rounding by √(1−ᾱ) (30× at
      // t = 10), so that space gets 5e-5. ε- and v-networks are held to 1e-5 in ε.
      if (param === 'x0') {
        expect(rel(x0, refX0)).toBeLessThan(1e-5);
        expect(rel(eps, ref)).toBeLessThan(5e-5);
      } else {
        expect(rel(eps, ref)).toBeLessThan(1e-5);
      }
    }
    await model.release();
  });
});

describe('provider choice and errors', () => {
  it('falls back along CUDA → DirectML → WebGPU → CPU and reports why each was skipped', async () => {
    const model = await loadOnnxPrior(join(FIXTURES, 'gaussian-eps'));
    // Whatever this machine has, the chosen provider is the first that worked, and earlier ones say why not.
    expect(model.provider).toMatch(/^onnx:(cuda|dml|webgpu|cpu)$/);
    for (const a of model.attempts) expect(a.error.length).toBeGreaterThan(0);
    await model.release();
  });

  it('names the card, the role and the real tensor names when the card does not match the graph', async () => {
    const dir = join(tmp, 'bad-input');
    cpSync(join(FIXTURES, 'gaussian-eps'), dir, { recursive: true });
    const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    card.inputs.x = 'image';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
    await expect(loadOnnxPrior(dir, { providers: ['cpu'] })).rejects.toThrow(/model\.json: inputs\.x = 'image' is not an input of .*model\.onnx \(its inputs: x, t\)/);
  });

  it('names the JSON path of a malformed card and a missing model file', async () => {
    const dir = join(tmp, 'bad-card');
    cpSync(join(FIXTURES, 'gaussian-eps'), dir, { recursive: true });
    const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    card.parameterization = 'score';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
    await expect(loadOnnxPrior(dir)).rejects.toThrow(/model\.json: parameterization: /);
    card.parameterization = 'eps';
    card.files.model = 'missing.onnx';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
    await expect(loadOnnxPrior(dir)).rejects.toThrow(/missing\.onnx: missing \(named by .*model\.json files\.model\)/);
  });

  it('refuses an input of the wrong shape naming the model', async () => {
    const model = await loadOnnxPrior(join(FIXTURES, 'gaussian-eps'), { providers: ['cpu'] });
    await expect(model.predictEps(tensor([1, 3, 4, 4]), 5)).rejects.toThrow(/model gaussian-eps: x_t must have shape N×3×8×8, got 1×3×4×4/);
    await model.release();
  });
});
