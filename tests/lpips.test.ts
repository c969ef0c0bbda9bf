/**
 * LPIPS model folders: the engine's conventions (clip to [−1, 1], gray → RGB, no resizing) and
 * refusals on stand-in networks, then AlexNet-LPIPS exported by tools/export_lpips.py against
 * PyTorch on the same weights (tools/reference/lpips_reference.py). The PyTorch part needs
 * python3-torch and python3-onnx (LAGRANGE_PYTHON chooses the interpreter) and is skipped without.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../src/engine/io/npy';
import { loadLpips, readLpipsCard, releaseLpipsNetworks } from '../src/engine/metrics/lpips';
import type { LpipsNetwork } from '../src/engine/metrics/lpips';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';
import { clippedMse, fakeLpips } from './helpers/lpips';

const ROOT = new URL('..', import.meta.url).pathname;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'lagrange-lpips-'));
const cpu = (dir: string): Promise<LpipsNetwork> => loadLpips(dir, { providers: ['cpu'] });

/** x ~ 0.6·N(0, 1) (partly outside [−1, 1]) and ref = x + σ·N(0, 1). */
function pair(shape: number[], seed: number, sigma = 0.3): [Tensor, Tensor] {
  const rng = createRng(seed);
  const x = tensor(shape),
    ref = tensor(shape);
  for (let i = 0; i < x.data.length; i++) {
    x.data[i] = 0.6 * rng.normal();
    ref.data[i] = x.data[i]! + sigma * rng.normal();
  }
  return [x, ref];
}

afterAll(() => releaseLpipsNetworks());

describe('LPIPS networks (stand-ins)', () => {
  it('feeds clipped values and replicates one channel to three', async () => {
    const net = await cpu(fakeLpips(join(tmp(), 'mse')));
    const [x, ref] = pair([2, 1, 32, 32], 1);
    // The stand-in is the mean squared difference over 3 replicated channels: the 1-channel one.
    const d = await net.distance(x, ref);
    clippedMse(x.data, ref.data, 2).forEach((v, i) => expect(d[i]).toBeCloseTo(v, 6));
    const [a, b] = pair([2, 3, 31, 40], 2);
    const rgb = await net.distance(a, b);
    clippedMse(a.data, b.data, 2).forEach((v, i) => expect(rgb[i]).toBeCloseTo(v, 6));
    expect(await net.distance(a, a)).toEqual([0, 0]);
    await net.release();
  });

  it('refuses folders that are not LPIPS networks, naming the file and what was expected', async () => {
    await expect(cpu('/nonexistent/lpips')).rejects.toThrow(/\/nonexistent\/lpips\/model\.json: missing; an LPIPS model folder holds model\.json and model\.onnx/);
    const prior = join(ROOT, 'tests/fixtures/models/gaussian-eps');
    await expect(cpu(prior)).rejects.toThrow(/gaussian-eps\/model\.json: format: expected 'lagrange-lpips' .*'lagrange-model' is a score model's card/);
    const dir = tmp();
    fakeLpips(dir, 'mse', { input: { channels: 3, range: [-1, 1] } });
    expect(() => readLpipsCard(dir)).toThrow(/model\.json: input\.minSide: /);
    fakeLpips(dir, 'mse', { architecture: 'vgg' });
    expect(() => readLpipsCard(dir)).toThrow(/model\.json: architecture: .*"alex"/);
    fakeLpips(dir, 'mse', { files: { model: 'nope.onnx' } });
    await expect(cpu(dir)).rejects.toThrow(/nope\.onnx: missing \(named by .*model\.json files\.model\)/);
    fakeLpips(dir, 'mse', { inputs: { x: 'img', ref: 'ref' } });
    await expect(cpu(dir)).rejects.toThrow(/model\.json: inputs\.x = 'img' is not an input of .*model\.onnx \(its inputs: x, ref\)/);
    fakeLpips(dir, 'mse', { outputs: { distance: 'd' } });
    await expect(cpu(dir)).rejects.toThrow(/outputs\.distance = 'd' is not an output of .*model\.onnx \(its outputs: lpips\)/);
    fakeLpips(dir, 'gray');
    await expect(cpu(dir)).rejects.toThrow(/model\.onnx: input 'x' is \[N, 1, H, W\], expected \[N, 3, H, W\]/);
  });

  it('refuses a network that does not give one distance per sample', async () => {
    const net = await cpu(fakeLpips(join(tmp(), 'diff'), 'diff'));
    const [x, ref] = pair([2, 3, 32, 32], 3);
    await expect(net.distance(x, ref)).rejects.toThrow(/model\.onnx: output 'lpips' is float32 2×3×32×32; an LPIPS network gives one float32 distance per sample \(2×1×1×1\)/);
    await net.release();
  });

  it('computes at the image size without resizing: below the card’s minSide it refuses', async () => {
    const net = await cpu(fakeLpips(join(tmp(), 'mse')));
    const [x, ref] = pair([1, 1, 16, 16], 4);
    await expect(net.distance(x, ref)).rejects.toThrow(/LPIPS \(alex\) needs images of at least 31×31 px \(it is computed at the image's own size, without resizing\), got 16×16/);
    const [a, b] = pair([1, 2, 32, 32], 4);
    await expect(net.distance(a, b)).rejects.toThrow(/LPIPS takes 1- or 3-channel images \(C×H×W\), got 2×32×32/);
    await expect(net.distance(a, tensor([1, 2, 32, 31]))).rejects.toThrow(/lpips: images must be matching N×C×H×W tensors, got 1×2×32×32 and 1×2×32×31/);
    await net.release();
  });
});

const python = process.env.LAGRANGE_PYTHON ?? '/usr/bin/python3';
const ready = spawnSync(python, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0;
if (!ready) console.warn(`lpips.test: PyTorch parity skipped, ${python} cannot import torch, onnx and numpy (apt-get install python3-torch python3-onnx python3-numpy)`);

function py(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(python, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' }, timeout: 120_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function ok(args: string[]): string {
  const r = py(args);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.out}\n${r.err}`);
  return r.out;
}

/** PyTorch's float64 LPIPS for (x, ref) with the given weight arguments. */
function torchLpips(weights: string[], x: Tensor, ref: Tensor): number[] {
  const dir = tmp();
  writeNpy(join(dir, 'x.npy'), x);
  writeNpy(join(dir, 'ref.npy'), ref);
  return (JSON.parse(ok(['tools/reference/lpips_reference.py', ...weights, '--x', join(dir, 'x.npy'), '--ref', join(dir, 'ref.npy')])) as { lpips: number[] }).lpips;
}

/** Worst |engine − torch| / |torch| over the samples. */
const worstRel = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.abs(b[i]!)));

// Relative, not absolute: the distance's scale is set by the weights (tenths for the published
// ones, here too), and it is a sum of non-negative terms, so float32 ONNX against float64 PyTorch
// should agree to float32 rounding (~1e-7) times the network depth; 1e-5 leaves room for that
// and still fails on any change of the maths (an off-by-one pad or eps moves it by > 1e-3).
const TOL = 1e-5;

describe.skipIf(!ready)('AlexNet-LPIPS from tools/export_lpips.py against PyTorch', () => {
  it('agrees to 1e-5 relative on the bundled prior’s 1×32×32 (gray) and on 3×48×40 images', async () => {
    const dir = join(tmp(), 'alex');
    expect(ok(['tools/export_lpips.py', '--random-init', '--seed', '3', '--out', dir])).toMatch(/min side 31 px/);
    const card = readLpipsCard(dir);
    expect(card).toMatchObject({ architecture: 'alex', input: { channels: 3, range: [-1, 1], minSide: 31 }, weights: { kind: 'random', seed: 3 } });
    const net = await cpu(dir);
    const errs: number[] = [];
    for (const [shape, seed] of [
      [[2, 1, 32, 32], 7],
      [[2, 3, 48, 40], 8],
    ] as const) {
      const [x, ref] = pair([...shape], seed);
      const [engine, torch] = [await net.distance(x, ref), torchLpips(['--random-init', '--seed', '3'], x, ref)];
      expect(torch.every((v) => v > 0.05 && v < 2)).toBe(true); // a real distance, not a degenerate 0
      expect(Math.abs(torch[0]! - torch[1]!)).toBeGreaterThan(1e-4); // per sample, not one value
      errs.push(worstRel(engine, torch));
      expect(worstRel(engine, torch)).toBeLessThan(TOL);
    }
    console.log(`lpips parity: worst relative error ${Math.max(...errs).toExponential(2)} (tolerance ${TOL})`);
    // Closer images are closer: the noise level orders the distances.
    const [x, near] = pair([1, 3, 32, 32], 9, 0.05);
    const [, far] = pair([1, 3, 32, 32], 9, 0.5);
    expect((await net.distance(x, near))[0]).toBeLessThan((await net.distance(x, far))[0]!);
    expect(await net.distance(x, x)).toEqual([0]);
    await net.release();
  }, 120_000);

  it('loads torchvision and LPIPS weight files by their key names, and refuses wrong ones with the keys listed', async () => {
    const w = tmp();
    // The seed-5 random network saved under the weight files' key names (features.K, linK.model.1).
    ok([
      '-c',
      `import sys, torch; sys.path.insert(0, 'tools'); import export_lpips as e
class A: random_init = True; seed = 5
net, _ = e.build(A())
torch.save({f'features.{i}.{p}': getattr(c, p).detach() for c, i in zip(net.convs, e.FEATURE_INDEX) for p in ('weight', 'bias')} | {'classifier.1.weight': torch.zeros(2, 2)}, '${w}/alexnet.pth')
torch.save({f'lin{k}.model.1.weight': l.weight.detach() for k, l in enumerate(net.lins)}, '${w}/alex.pth')
torch.save({'features.0.weight': torch.zeros(64, 3, 5, 5)}, '${w}/bad.pth')`,
    ]);
    const dir = join(tmp(), 'alex');
    const files = ['--alexnet', join(w, 'alexnet.pth'), '--lin', join(w, 'alex.pth')];
    ok(['tools/export_lpips.py', ...files, '--package', 'lpips 0.1.4', '--out', dir]);
    expect(readLpipsCard(dir)).toMatchObject({
      name: 'alex-lpips-v0.1',
      weights: {
        kind: 'pretrained',
        version: 'v0.1',
        package: 'lpips 0.1.4',
        sources: [expect.stringMatching(/^alexnet\.pth sha256:[0-9a-f]{16}$/), expect.stringMatching(/^alex\.pth sha256:/)],
      },
    });
    const [x, ref] = pair([2, 3, 32, 32], 10);
    const net = await cpu(dir);
    const engine = await net.distance(x, ref);
    expect(worstRel(engine, torchLpips(files, x, ref))).toBeLessThan(TOL);
    expect(worstRel(engine, torchLpips(['--random-init', '--seed', '5'], x, ref))).toBeLessThan(TOL);
    await net.release();

    const bad = py(['tools/export_lpips.py', '--alexnet', join(w, 'bad.pth'), '--lin', join(w, 'alex.pth'), '--out', join(tmp(), 'x')]);
    expect(bad.status).not.toBe(0);
    expect(bad.err).toMatch(/bad\.pth .*not AlexNet-LPIPS weights:\n {2}features\.0\.weight is \[64, 3, 5, 5\], expected \[64, 3, 11, 11\]\n {2}missing features\.0\.bias \[64\]/);
    writeFileSync(join(w, 'neg.py'), `import torch; sd = torch.load('${w}/alex.pth'); sd['lin2.model.1.weight'][0, 0] = -0.5; torch.save(sd, '${w}/neg.pth')`);
    ok([join(w, 'neg.py')]);
    const neg = py(['tools/export_lpips.py', '--alexnet', join(w, 'alexnet.pth'), '--lin', join(w, 'neg.pth'), '--out', join(tmp(), 'x')]);
    expect(neg.err).toMatch(/lin2 has negative weights \(min -0\.5\); LPIPS linear layers are non-negative/);
  }, 120_000);
});
