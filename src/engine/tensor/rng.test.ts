/**
 * Seeded streams: determinism by (seed, stream), independence of named streams, and fillNormal
 * giving exactly the numbers of per-entry normal() calls (it draws Box–Muller pairs in one loop).
 */
import { describe, expect, it } from 'vitest';
import { createRng } from './rng';

describe('createRng', () => {
  it('is determined by (seed, stream) and forks like a named stream', () => {
    const a = createRng(3, 'run/x/5'),
      b = createRng(3).fork('run').fork('x').fork('5');
    const xs = Array.from({ length: 8 }, () => a.uniform());
    expect(Array.from({ length: 8 }, () => b.uniform())).toEqual(xs);
    expect(createRng(3, 'run/x/6').uniform()).not.toBe(xs[0]);
    expect(createRng(4, 'run/x/5').uniform()).not.toBe(xs[0]);
  });

  it.each([0, 1, 2, 7, 1000, 1001])('fillNormal of %i entries equals per-entry normal(), also after an odd draw', (n) => {
    for (const skew of [0, 1]) {
      const per = createRng(11, 's'),
        filled = createRng(11, 's');
      for (let i = 0; i < skew; i++) expect(filled.normal()).toBe(per.normal()); // leaves a spare pending
      const want = Float32Array.from({ length: n }, () => 0.5 + 2 * per.normal());
      expect(Array.from(filled.fillNormal(new Float32Array(n), 2, 0.5))).toEqual(Array.from(want));
      expect(filled.normal()).toBe(per.normal()); // and the stream continues in step
    }
  });

  it.each([0, 1, 5, 1000])('fillNormalPairs of %i entries equals alternating normal() calls, also after an odd draw', (n) => {
    for (const skew of [0, 1]) {
      const per = createRng(5, 'p'),
        filled = createRng(5, 'p');
      for (let i = 0; i < skew; i++) expect(filled.normal()).toBe(per.normal());
      const a = new Float32Array(n),
        b = new Float32Array(n);
      const wa = new Float32Array(n),
        wb = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        wa[i] = per.normal();
        wb[i] = per.normal();
      }
      filled.fillNormalPairs(a, b);
      expect([Array.from(a), Array.from(b)]).toEqual([Array.from(wa), Array.from(wb)]);
      expect(filled.normal()).toBe(per.normal());
    }
  });

  it('draws standard normals (mean 0, variance 1 within sampling error)', () => {
    const x = createRng(1, 'moments').fillNormal(new Float32Array(200_000));
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.01);
  });
});
