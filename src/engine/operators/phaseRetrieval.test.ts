import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { createOperator } from './registry';

// x = 0.9·sin(0.7r + 1.3c + 2k) on 1×2×8×8, pad 2; numbers from tools/reference/phase_retrieval_reference.py (numpy.fft).
const x = tensor([1, 2, 8, 8]);
for (let k = 0; k < 2; k++) for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) x.data[k * 64 + r * 8 + c] = 0.9 * Math.sin(0.7 * r + 1.3 * c + 2 * k);

describe('phase-retrieval', () => {
  const op = createOperator('phase-retrieval', { shape: [2, 8, 8], params: { pad: 2 } });
  const y = op.apply(x);

  it('matches numpy: fftshift(|fft2(pad((x+1)/2), norm="ortho")|)', () => {
    expect(y.shape).toEqual([1, 2, 12, 12]);
    expect(y.data.reduce((a, b) => a + b, 0)).toBeCloseTo(62.65424659537087, 4);
    expect(Math.max(...y.data)).toBeCloseTo(2.6446265833607576, 5);
    expect(y.data[6 * 12 + 6]).toBeCloseTo(2.631531040572251, 5); // zero frequency in the centre
    expect(y.data[144 + 6 * 12 + 6]).toBeCloseTo(2.6446265833607576, 5);
    expect(y.data[3 * 12 + 5]).toBeCloseTo(0.007747123342393341, 5);
    expect(y.data[144 + 11 * 12]).toBeCloseTo(0.03543510820471588, 5);
    expect(y.data[0]).toBeCloseTo(0.009750004935388752, 5);
  });

  it('has the intensity variant |·|² (Parseval: its sum is ‖pad(x₀₁)‖²)', () => {
    const yi = createOperator('phase-retrieval', { shape: [2, 8, 8], params: { pad: 2, measure: 'intensity' } }).apply(x);
    expect(yi.data.reduce((a, b) => a + b, 0)).toBeCloseTo(44.205951686516684, 3);
  });

  it('pads to 384/96/48 at 256/64/32 px (oversampling 2, DAPS)', () => {
    for (const [side, grid] of [[256, 384], [64, 96], [32, 48]] as const) {
      expect(createOperator('phase-retrieval', { shape: [3, side, side] }).outShape).toEqual([3, grid, grid]);
    }
  });

  it('is invariant to the global sign of x₀₁ (pm1 convention) and to flips — the ambiguities of the problem', () => {
    const pm = createOperator('phase-retrieval', { shape: [2, 8, 8], params: { pad: 2, inputRange: 'pm1' } });
    const neg = tensor(x.shape, x.data.map((v) => -v));
    const ya = pm.apply(x), yb = pm.apply(neg);
    ya.data.forEach((v, i) => expect(yb.data[i]).toBeCloseTo(v, 5));
  });
});
