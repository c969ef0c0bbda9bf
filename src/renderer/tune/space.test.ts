/** The Tune panel's prefill from the parameter schemas, its range checks, and the image splits. */
import { describe, expect, it } from 'vitest';
import preset from '../../../resources/presets/ddiff.lagrange.json';
import { nodeKinds } from '../../nodes/index';
import type { WireGraph } from '../../protocol/messages';
import { mergedParams } from '../../protocol/params';
import { bundledCatalog } from '../state/kindCatalog';
import { candidates, defaultRange, defaultSplits, heldOut, keyOf, preselected, rangeError } from './space';

const kinds = new Map(bundledCatalog(nodeKinds()).map((k) => [k.kind, k]));
const ddiff = preset as unknown as WireGraph;
const running = mergedParams(ddiff, { task: 'inpaint-box' });

describe('Tune panel search space', () => {
  const all = candidates(ddiff, kinds, running);
  const by = new Map(all.map((c) => [keyOf(c), c]));

  it('offers the solver nodes’ parameters, not those of images, operators, priors or outputs', () => {
    expect(by.has('x.gamma0')).toBe(true);
    expect(by.has('noise.zeta')).toBe(true);
    expect(by.has('schedule.iterations')).toBe(true);
    expect([...by.keys()].some((k) => /^(image|A|measure|prior|preview|metrics|out)\./.test(k))).toBe(false);
  });

  it('starts a positive number log-uniform around the value the task runs, inside the schema', () => {
    // γ₀ is 30 on box inpainting (the task's override), 30/4 … 30·4 on a log scale.
    expect(by.get('x.gamma0')!.range).toEqual({ node: 'x', param: 'gamma0', kind: 'log', lo: 7.5, hi: 120 });
    // A choice lists its options; a switch both positions.
    expect(by.get('x.mode')!.range).toMatchObject({ kind: 'list', values: expect.arrayContaining(['gradient', 'prox']) });
    expect(by.get('z.clip')!.range).toMatchObject({ kind: 'list', values: [true, false] });
    // An integer from half to twice its value.
    expect(by.get('schedule.iterations')!.range).toMatchObject({ kind: 'linear', lo: 500, hi: 2000 });
    for (const c of all) expect(rangeError(c, c.range), keyOf(c)).toBeUndefined();
  });

  it('says why a range cannot be searched', () => {
    const g = by.get('x.gamma0')!;
    expect(rangeError(g, { node: 'x', param: 'gamma0', kind: 'linear', lo: 5, hi: 1 })).toMatch(/lo < hi/);
    expect(rangeError(g, { node: 'x', param: 'gamma0', kind: 'log', lo: -1, hi: 1 })).toMatch(/lo > 0/);
    expect(rangeError(g, { node: 'x', param: 'gamma0', kind: 'linear', lo: 0, hi: 1 })).toMatch(/0 must be > 0/);
    const bounded = defaultRange('n', 'p', { name: 'p', control: 'number', minimum: 0, maximum: 1, required: false }, 0.9);
    expect(bounded).toEqual({ node: 'n', param: 'p', kind: 'linear', lo: 0.225, hi: 1 });
  });

  it('preselects the numbers the graph overrides for the task, and splits the held-out images', () => {
    expect(preselected(ddiff, 'inpaint-box', all)).toEqual(['x.gamma0', 'noise.zeta']);
    const refs = ['sample:astronaut', ...Array.from({ length: 12 }, (_, i) => `model:fmnist-32/heldout/${String(i).padStart(2, '0')}.png`)].reverse();
    const pool = heldOut(ddiff, refs);
    expect(pool[0]).toBe('model:fmnist-32/heldout/00.png');
    expect(pool).toHaveLength(12);
    const s = defaultSplits(pool, 3, 2);
    expect(Object.entries(s)).toEqual([
      ['model:fmnist-32/heldout/00.png', 'test'],
      ['model:fmnist-32/heldout/01.png', 'test'],
      ['model:fmnist-32/heldout/02.png', 'val'],
      ['model:fmnist-32/heldout/03.png', 'val'],
      ['model:fmnist-32/heldout/04.png', 'val'],
    ]);
  });
});
