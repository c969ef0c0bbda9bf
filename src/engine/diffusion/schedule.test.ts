import { describe, expect, it } from 'vitest';
import { linearSchedule } from './schedule';

describe('linearSchedule', () => {
  const s = linearSchedule();

  it('reproduces the ADM table values of ALGORITHMS.md §0.1', () => {
    expect(s.alphaBars[0]).toBeCloseTo(0.9999, 10);
    expect(s.alphaBars[999]! / 4.036e-5).toBeCloseTo(1, 3);
    expect(s.sigmaAt(0)).toBeCloseTo(0.01, 4);
    expect(s.sigmaAt(90)).toBeCloseTo(0.308, 3);
    expect(s.sigmaAt(200)).toBeCloseTo(0.724, 3);
    expect(s.sigmaAt(500)).toBeCloseTo(3.44, 2);
    expect(s.sigmaAt(999)).toBeCloseTo(157.4, 0);
  });

  it('has ᾱ_{−1} = 1 and interpolates between steps monotonically', () => {
    expect(s.alphaBarAt(-1)).toBe(1);
    const mid = s.alphaBarAt(10.5);
    expect(mid).toBeLessThan(s.alphaBarAt(10));
    expect(mid).toBeGreaterThan(s.alphaBarAt(11));
  });

  it('finds the nearest step for a σ and the continuous timestep close to it', () => {
    for (const t of [5, 90, 400, 900]) {
      const sigma = s.sigmaAt(t);
      expect(s.nearestStep(sigma)).toBe(t);
      // the continuous-VP approximation ᾱ(τ) = exp(−b₀τ − b_dτ²/2) sits 0.5–3 steps above the
      // discrete index (the discrete product has t+1 factors); a wrong formula is off by far more
      const tau = s.continuousStep(sigma);
      expect(tau).toBeGreaterThan(t);
      expect(tau - t).toBeLessThan(3);
    }
  });

  it('inverts ᾱ(t) exactly for any σ, fractional steps included', () => {
    for (const sigma of [0.005, 0.01, 0.3, 3.44, 100]) {
      const t = s.stepForSigma(sigma);
      expect(s.alphaBarAt(t)).toBeCloseTo(1 / (1 + sigma * sigma), 12);
    }
    expect(s.stepForSigma(0)).toBe(-1);
    expect(s.stepForSigma(1e6)).toBe(999);
  });
});
