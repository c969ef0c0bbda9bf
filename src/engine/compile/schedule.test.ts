import { describe, expect, it } from 'vitest';
import { linearSchedule } from '../diffusion/schedule';
import { resolveSchedule } from './schedule';

const vp = linearSchedule();
const base = { sigmaMax: 100, sigmaMin: 0.1, rho: 7 };

describe('resolveSchedule', () => {
  it('gives DDiff its 1000 steps t = 999…0, then ᾱ = 1', () => {
    const r = resolveSchedule({ ...base, iterations: 1000, spacing: 'uniform' }, vp);
    expect(r.t[0]).toBe(999);
    expect(r.t[999]).toBe(0);
    expect(r.s[0]).toBe(998);
    expect(r.s[999]).toBe(-1);
    expect(r.alphaBarT[0]).toBeCloseTo(vp.alphaBars[999]!, 12);
    expect(r.alphaBarS[999]).toBe(1);
    expect(r.sigmaS[999]).toBe(0);
    expect(r.sigmaT[909]).toBeCloseTo(0.308, 3); // t = 90
  });

  it('spreads fewer uniform steps evenly from tStart', () => {
    const r = resolveSchedule({ ...base, iterations: 5, spacing: 'uniform', tStart: 400 }, vp);
    expect(Array.from(r.t)).toEqual([400, 300, 200, 100, 0]);
  });

  it('builds DiffPIR’s quadratic spacing, dense near t = 0', () => {
    const r = resolveSchedule({ ...base, iterations: 20, spacing: 'quad' }, vp);
    // t_k = 999 − ⌊√(k/19)·1000⌋·999/999, last = 0; computed by hand for k = 0, 1, 10, 19
    expect(r.t[0]).toBe(999);
    expect(r.t[1]).toBe(999 - Math.floor(Math.sqrt(1 / 19) * 1000));
    expect(r.t[10]).toBe(999 - Math.floor(Math.sqrt(10 / 19) * 1000));
    expect(r.t[19]).toBe(0);
    expect(r.t[0]! - r.t[1]!).toBeGreaterThan(r.t[18]! - r.t[19]!);
  });

  it('builds DAPS’s poly-7 σ grid from 100 to 0.1, then 0', () => {
    const r = resolveSchedule({ ...base, iterations: 200, spacing: 'edm' }, vp);
    expect(r.sigmaT[0]).toBeCloseTo(100, 8);
    expect(r.sigmaT[199]).toBeCloseTo(0.1, 10);
    expect(r.sigmaS[199]).toBe(0);
    expect(r.sigmaS[0]).toBeCloseTo(r.sigmaT[1]!, 12);
    // σ_k = (100^{1/7} + k/199·(0.1^{1/7} − 100^{1/7}))^7 at k = 100
    expect(r.sigmaT[100]).toBeCloseTo((100 ** (1 / 7) + (100 / 199) * (0.1 ** (1 / 7) - 100 ** (1 / 7))) ** 7, 10);
    for (let k = 1; k < 200; k++) expect(r.t[k]).toBeLessThan(r.t[k - 1]!);
  });

  it('names the parameter when a schedule cannot be built', () => {
    expect(() => resolveSchedule({ ...base, iterations: 2000, spacing: 'uniform' }, vp)).toThrow('iterations: 2000 uniform steps need tStart ≥ 1999, got 999');
    expect(() => resolveSchedule({ ...base, iterations: 10, spacing: 'uniform', tStart: 1200 }, vp)).toThrow("tStart: 1200 is beyond the prior's last timestep 999");
    expect(() => resolveSchedule({ ...base, iterations: 10, spacing: 'edm', sigmaMax: 0.05 }, vp)).toThrow(/sigmaMax: must exceed sigmaMin/);
  });
});
