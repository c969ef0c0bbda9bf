/**
 * The search's pure parts: `--param` ranges checked against the node schemas, the seeded
 * quasi-random points, the rung plan and which trials successive halving promotes.
 */
import { describe, expect, it } from 'vitest';
import { planRungs, promote, searchNfe } from '../src/engine/tune/halving';
import { parseRange, RangeFlagError, samplePoints, valueAt } from '../src/engine/tune/space';
import type { ParamRange } from '../src/engine/tune/space';
import { loadPreset } from '../src/engine/tune/tune';

const doc = loadPreset('diffpir');

describe('parseRange', () => {
  it('reads linear, log, integer and list ranges', () => {
    expect(parseRange('x.lambda=0.1:10:log', doc)).toEqual({ node: 'x', param: 'lambda', kind: 'log', lo: 0.1, hi: 10, integer: false });
    expect(parseRange('noise.zeta=0:1', doc)).toEqual({ node: 'noise', param: 'zeta', kind: 'linear', lo: 0, hi: 1, integer: false });
    expect(parseRange('schedule.iterations=10:40', doc)).toMatchObject({ kind: 'linear', integer: true, lo: 10, hi: 40 });
    expect(parseRange('x.mode=prox,gradient', doc)).toEqual({ node: 'x', param: 'mode', kind: 'list', values: ['prox', 'gradient'] });
    expect(parseRange('noise.eta=0, 0.5, 1', doc)).toEqual({ node: 'noise', param: 'eta', kind: 'list', values: [0, 0.5, 1] });
  });

  it.each([
    ['x.lambda', /expected <node>\.<param>=<lo>:<hi>\[:log\] or <a>,<b>/],
    ['nope.lambda=1:2', /graph "diffpir" has no node "nope"; nodes: image, A, .*schedule/],
    ['x.lamda=1:2', /node "x" \(XUpdate\) has no parameter 'lamda'; parameters: .*lambda/],
    ['x.lambda=0:10', /0 is out of range; node "x" \(XUpdate\) parameter 'lambda' must be a number > 0/],
    ['noise.zeta=0.5:2', /2 is out of range; .*'zeta' must be a number ≥ 0, ≤ 1/],
    ['noise.zeta=0:1:log', /a log range needs lo > 0, got 0/],
    ['x.lambda=5:1', /must have lo < hi/],
    ['x.lambda=a:b', /must be numbers/],
    ['x.lambda=1:2:lin', /neither lo:hi, lo:hi:log nor a list/],
    ['schedule.iterations=2.5:9', /integer parameter's range must be integers/],
    ['x.mode=prox,newton', /"newton" is out of range; .*'mode' must be one of/],
    ['x.lambda=3,', /a list needs at least two values/],
  ])('refuses %s, naming what is wrong', (flag, message) => {
    expect(() => parseRange(flag, doc)).toThrow(RangeFlagError);
    expect(() => parseRange(flag, doc)).toThrow(message);
  });
});

describe('samplePoints', () => {
  const ranges: ParamRange[] = [
    parseRange('x.lambda=0.01:100:log', doc),
    parseRange('noise.zeta=0:1', doc),
    parseRange('noise.eta=0,0.5,1', doc),
    parseRange('schedule.iterations=5:9', doc),
  ];

  it('is a function of the seed: same seed same points, another seed other points, longer searches extend shorter ones', () => {
    const a = samplePoints(ranges, 12, 7);
    expect(samplePoints(ranges, 12, 7)).toEqual(a);
    expect(samplePoints(ranges, 12, 8)).not.toEqual(a);
    expect(samplePoints(ranges, 20, 7).slice(0, 12)).toEqual(a);
  });

  it('stays in range, covers each dimension evenly and rounds integers', () => {
    const pts = samplePoints(ranges, 27, 3);
    const lam = pts.map((p) => p.x!.lambda as number);
    expect(Math.min(...lam)).toBeGreaterThanOrEqual(0.01);
    expect(Math.max(...lam)).toBeLessThanOrEqual(100);
    // A low-discrepancy sequence puts points in every decade of the log range.
    for (let d = -2; d < 2; d++) expect(lam.some((v) => v >= 10 ** d && v < 10 ** (d + 1))).toBe(true);
    expect(new Set(pts.map((p) => p.noise!.eta))).toEqual(new Set([0, 0.5, 1]));
    expect(pts.every((p) => Number.isInteger(p.schedule!.iterations) && (p.schedule!.iterations as number) >= 5 && (p.schedule!.iterations as number) <= 9)).toBe(true);
    const zeta = pts.map((p) => p.noise!.zeta as number).sort((x, y) => x - y);
    for (let q = 0; q < 3; q++) expect(zeta.filter((v) => v >= q / 3 && v < (q + 1) / 3).length).toBeGreaterThanOrEqual(8);
  });

  it('maps the unit interval onto the range ends', () => {
    const log = ranges[0]!;
    expect(valueAt(log, 0)).toBe(0.01);
    expect(valueAt(log, 0.5)).toBeCloseTo(1, 6);
    expect(valueAt(ranges[3]!, 0.999)).toBe(9);
  });
});

describe('successive halving', () => {
  it('plans rungs η× more expensive, ending at the full budget', () => {
    expect(planRungs({ trials: 28, eta: 3, iterations: 90, images: 9, fidelity: 'iterations' })).toEqual([
      { index: 0, trials: 28, iterations: 10, images: 9 },
      { index: 1, trials: 9, iterations: 30, images: 9 },
      { index: 2, trials: 3, iterations: 90, images: 9 },
    ]);
    expect(planRungs({ trials: 9, eta: 3, iterations: 90, images: 9, fidelity: 'images' }).map((r) => r.images)).toEqual([1, 3, 9]);
    expect(planRungs({ trials: 9, eta: 3, iterations: 90, images: 9, fidelity: 'both' })[0]).toMatchObject({ iterations: 10, images: 1 });
    // Too few trials for three rungs; and a rung that saves nothing is dropped.
    expect(planRungs({ trials: 2, eta: 3, iterations: 90, images: 9, fidelity: 'iterations' })).toHaveLength(1);
    expect(planRungs({ trials: 30, eta: 3, iterations: 4, images: 9, fidelity: 'iterations' })).toEqual([{ index: 0, trials: 30, iterations: 4, images: 9 }]);
  });

  it('promotes the best by the objective’s direction, never a failed trial, ties to the lower id', () => {
    const s = new Map([
      [0, 20],
      [1, 25],
      [2, Number.NaN],
      [3, 22],
      [4, 25],
    ]);
    expect(promote(s, 2, 'psnr')).toEqual([1, 4]);
    expect(promote(s, 3, 'residual')).toEqual([0, 3, 1]);
    expect(promote(s, 10, 'ssim')).toEqual([1, 4, 3, 0]);
  });

  it('counts the NFE of a plan', () => {
    const rungs = planRungs({ trials: 9, eta: 3, iterations: 90, images: 9, fidelity: 'iterations' });
    expect(searchNfe(rungs, 90, 90)).toBe(9 * 9 * 10 + 3 * 9 * 30 + 1 * 9 * 90);
  });
});
