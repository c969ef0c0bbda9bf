import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { dot, tensor } from '../tensor/tensor';
import { createOperator } from './registry';
import type { ForwardModel } from './types';

// Reference numbers: tools/reference/phase_retrieval_reference.py (numpy.fft, norm='ortho', np.pad,
// np.fft.fftshift) — computed independently of this code.

// Case 1: x = 0.9·sin(0.7r + 1.3c + 2k) on 1×2×8×8, pad 2 (12×12 grid), DAPS range x₀₁ = (x+1)/2.
const x = tensor([1, 2, 8, 8]);
for (let k = 0; k < 2; k++) for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) x.data[k * 64 + r * 8 + c] = 0.9 * Math.sin(0.7 * r + 1.3 * c + 2 * k);

// Case 2: x = 0.8·cos(0.9r − 0.4c + 0.5k) on 1×2×5×7, pad 1 (odd 7×9 grid), x₀₁ = x, intensity.
const xo = tensor([1, 2, 5, 7]);
for (let k = 0; k < 2; k++) for (let r = 0; r < 5; r++) for (let c = 0; c < 7; c++) xo.data[k * 35 + r * 7 + c] = 0.8 * Math.cos(0.9 * r - 0.4 * c + 0.5 * k);

const sum = (t: Tensor): number => t.data.reduce((a, b) => a + b, 0);

/** Pooled relative error of vjp against central differences over a few random directions. */
function vjpError(op: ForwardModel, at: Tensor, seed: number): number {
  const rng = createRng(seed, 'pr-vjp');
  const v = tensor([at.shape[0]!, ...op.outShape]);
  rng.fillNormal(v.data);
  const g = op.vjp!(at, v);
  const eps = 2e-4;
  let num = 0,
    den = 0;
  for (let t = 0; t < 4; t++) {
    const d = tensor(at.shape);
    rng.fillNormal(d.data);
    const xp = tensor(
      at.shape,
      at.data.map((a, i) => a + eps * d.data[i]!),
    );
    const xm = tensor(
      at.shape,
      at.data.map((a, i) => a - eps * d.data[i]!),
    );
    const fd = (dot(op.apply(xp), v) - dot(op.apply(xm), v)) / (2 * eps);
    const an = dot(g, d);
    num += (fd - an) ** 2;
    den += an ** 2;
  }
  return Math.sqrt(num / den);
}

describe('phase-retrieval', () => {
  const op = createOperator('phase-retrieval', { shape: [2, 8, 8], params: { pad: 2 } });
  const y = op.apply(x);

  it('matches numpy: fftshift(|fft2(pad((x+1)/2), norm="ortho")|)', () => {
    expect(y.shape).toEqual([1, 2, 12, 12]);
    expect(sum(y)).toBeCloseTo(62.654246595370864, 4);
    expect(Math.max(...y.data)).toBeCloseTo(2.6446265833607576, 5);
    expect(y.data[6 * 12 + 6]).toBeCloseTo(2.631531040572251, 5); // zero frequency in the centre
    expect(y.data[144 + 6 * 12 + 6]).toBeCloseTo(2.6446265833607576, 5);
    expect(y.data[3 * 12 + 5]).toBeCloseTo(0.007747123342393336, 5);
    expect(y.data[144 + 11 * 12]).toBeCloseTo(0.03543510820471589, 5);
    expect(y.data[0]).toBeCloseTo(0.009750004935388749, 5);
  });

  it('has the intensity variant |·|² (Parseval: its sum is ‖pad(x₀₁)‖²)', () => {
    const yi = createOperator('phase-retrieval', { shape: [2, 8, 8], params: { pad: 2, measure: 'intensity' } }).apply(x);
    expect(sum(yi)).toBeCloseTo(44.205951686516684, 3);
  });

  it('matches numpy on an odd grid with x₀₁ = x and the intensity measure', () => {
    const od = createOperator('phase-retrieval', { shape: [2, 5, 7], params: { pad: 1, inputRange: 'pm1', measure: 'intensity' } });
    const yo = od.apply(xo);
    expect(yo.shape).toEqual([1, 2, 7, 9]);
    expect(sum(yo)).toBeCloseTo(22.477684454789028, 4);
    expect(Math.max(...yo.data)).toBeCloseTo(2.238281825147413, 5);
    expect(yo.data[3 * 9 + 4]).toBeCloseTo(0.5448025079959278, 5); // zero frequency at (⌊7/2⌋, ⌊9/2⌋)
    expect(yo.data[0]).toBeCloseTo(0.005176782752167093, 6);
    expect(yo.data[63 + 6 * 9 + 8]).toBeCloseTo(0.002747225036273109, 6);
    expect(yo.data[63 + 2 * 9 + 7]).toBeCloseTo(0.009494985437029022, 6);
  });

  it('pads to 384/96/48 at 256/64/32 px (oversampling 2, DAPS)', () => {
    for (const [side, grid] of [
      [256, 384],
      [64, 96],
      [32, 48],
    ] as const) {
      expect(createOperator('phase-retrieval', { shape: [3, side, side] }).outShape).toEqual([3, grid, grid]);
    }
  });

  it('is invariant to the global sign of x₀₁ (pm1 convention) — an ambiguity of the problem', () => {
    const pm = createOperator('phase-retrieval', { shape: [2, 8, 8], params: { pad: 2, inputRange: 'pm1' } });
    const neg = tensor(
      x.shape,
      x.data.map((v) => -v),
    );
    const ya = pm.apply(x),
      yb = pm.apply(neg);
    ya.data.forEach((v, i) => expect(yb.data[i]).toBeCloseTo(v, 5));
  });

  it.each([
    ['amplitude', '01'],
    ['amplitude', 'pm1'],
    ['intensity', '01'],
    ['intensity', 'pm1'],
  ] as const)('has a VJP matching finite differences (%s, %s), odd grid included', (measure, inputRange) => {
    const even = createOperator('phase-retrieval', { shape: [2, 8, 8], params: { pad: 2, measure, inputRange } });
    expect(vjpError(even, x, 1)).toBeLessThan(1e-3);
    const odd = createOperator('phase-retrieval', { shape: [2, 5, 7], params: { pad: 1, measure, inputRange } });
    expect(vjpError(odd, xo, 2)).toBeLessThan(1e-3);
  });

  it('uses 0 where |z| = 0 in the amplitude VJP instead of dividing by zero', () => {
    // x = −1 everywhere gives x₀₁ = 0, so z = F P x₀₁ = 0 at every frequency.
    const zeroImage = tensor([1, 2, 8, 8], new Float32Array(128).fill(-1));
    const v = tensor([1, 2, 12, 12], new Float32Array(288).fill(1));
    const g = op.vjp!(zeroImage, v);
    expect(g.data.every((a) => a === 0)).toBe(true);
  });

  it('shows log(1 + y) rescaled to [−1, 1] per sample', () => {
    const view = op.view(y);
    expect(view.shape).toEqual(y.shape);
    expect(Math.min(...view.data)).toBeCloseTo(-1, 6);
    expect(Math.max(...view.data)).toBeCloseTo(1, 6);
    // Monotone in y: the brightest view pixel is the largest amplitude.
    expect(view.data.indexOf(Math.max(...view.data))).toBe(y.data.indexOf(Math.max(...y.data)));
  });
});
