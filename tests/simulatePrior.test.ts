/**
 * `lagrange simulate --prior`: the bundle's image is fitted to the prior exactly as `run --image`
 * fits one (same crop, resize and luma), and a bundle that does not fit a run's prior is refused
 * with the command that makes one that does.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { readNpy } from '../src/engine/io/npy';
import { loadImage } from '../src/engine/io/prepare';

const ROOT = new URL('..', import.meta.url).pathname;
const PHOTO = join(ROOT, 'resources/samples/astronaut.png');
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-simprior-'));

async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(['node', 'lagrange', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('lagrange simulate --prior', () => {
  it('fits an RGB photo to fmnist-32 as run --image does: 1×1×32×32, luma, bit for bit', async () => {
    const out = join(tmp, 'fit');
    const r = await cli('simulate', '--task', 'inpaint-box', '--image', PHOTO, '--prior', 'fmnist-32', '--out', out);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toMatch(/fitted .*astronaut\.png to prior fmnist-32: 1×1×32×32/);
    const x = readNpy(join(out, 'x.npy'));
    // What compile does for an ImageInput under a learned prior (size and channels from the card).
    const expected = await loadImage(PHOTO, 32, 1);
    expect(x.shape).toEqual([1, 1, 32, 32]);
    expect(Array.from(x.data)).toEqual(Array.from(expected.data));
    expect(JSON.parse(readFileSync(join(out, 'task.json'), 'utf8')).shapes.y).toEqual([1, 1, 32, 32]);
  });

  it('takes model: and sample: image names, as run does', async () => {
    const r = await cli('simulate', '--task', 'inpaint-box', '--image', 'model:fmnist-32/heldout/07.png', '--prior', 'fmnist-32', '--out', join(tmp, 'named'));
    expect(r.code).toBe(0);
    const s = await cli('simulate', '--task', 'hdr', '--image', 'sample:camera', '--size', '16', '--out', join(tmp, 'sample'));
    expect(s.code).toBe(0);
    expect(readNpy(join(tmp, 'sample', 'x.npy')).shape).toEqual([1, 3, 16, 16]);
  });

  it('refuses a --size the prior does not have, and an unknown prior, in one line', async () => {
    const size = await cli('simulate', '--task', 'inpaint-box', '--image', PHOTO, '--size', '64', '--prior', 'fmnist-32', '--out', join(tmp, 'e1'));
    expect(size.code).toBe(1);
    expect(size.err).toEqual([expect.stringMatching(/^lagrange: --size 64: prior fmnist-32 works on 1×32×32 images; leave --size out/)]);
    const unknown = await cli('simulate', '--task', 'inpaint-box', '--image', PHOTO, '--prior', 'no-such-model', '--out', join(tmp, 'e2'));
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/no-such-model: .*models: fmnist-32/);
  });

  it('leaves the image as it is for an analytic prior, which takes any shape', async () => {
    const r = await cli('simulate', '--task', 'inpaint-box', '--image', PHOTO, '--size', '16', '--prior', 'gaussian', '--out', join(tmp, 'gauss'));
    expect(r.code).toBe(0);
    expect(readNpy(join(tmp, 'gauss', 'x.npy')).shape).toEqual([1, 3, 16, 16]);
  });
});

describe('run --measurement with a bundle that does not fit the prior', () => {
  it('says to re-simulate with --prior <the model>', async () => {
    const bundle = join(tmp, 'rgb64');
    expect((await cli('simulate', '--task', 'inpaint-box', '--image', PHOTO, '--size', '64', '--out', bundle)).code).toBe(0);
    const r = await cli('run', 'daps', '--measurement', bundle, '--iterations', '1', '--out', join(tmp, 'daps'));
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/model fmnist-32 works on 1×32×32 images but the measurement's image is 3×64×64; .*re-simulate with --prior fmnist-32/);
  });
});
