import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { createOperator } from './registry';
import { denseOf } from './separable';
import { bicubicResizeMatrix, resizeImage, superResolution } from './superResolution';

// Reference numbers printed by tools/reference/imresize_reference.py (numpy, MATLAB's
// `contributions` algorithm written independently of this code).
const W16_4 = [
  [0.279296875, 0.263671875, 0.2290039062, 0.1635742188, 0.0864257812, 0.0209960938, -0.0119628906, -0.0183105469, -0.0109863281, -0.0017089844, 0, 0, 0, 0, 0, 0],
  [
    -0.029296875, -0.013671875, 0.0227050781, 0.0974121094, 0.1818847656, 0.2409667969, 0.2409667969, 0.1818847656, 0.0974121094, 0.0227050781, -0.0119628906, -0.0183105469,
    -0.0109863281, -0.0017089844, 0, 0,
  ],
  [
    0, 0, -0.0017089844, -0.0109863281, -0.0183105469, -0.0119628906, 0.0227050781, 0.0974121094, 0.1818847656, 0.2409667969, 0.2409667969, 0.1818847656, 0.0974121094,
    0.0227050781, -0.013671875, -0.029296875,
  ],
  [0, 0, 0, 0, 0, 0, -0.0017089844, -0.0109863281, -0.0183105469, -0.0119628906, 0.0209960938, 0.0864257812, 0.1635742188, 0.2290039062, 0.263671875, 0.279296875],
];
const W12_3 = [
  [0.279296875, 0.263671875, 0.2290039062, 0.1635742188, 0.0864257812, 0.0209960938, -0.0119628906, -0.0183105469, -0.0109863281, -0.0017089844, 0, 0],
  [-0.029296875, -0.013671875, 0.0227050781, 0.0974121094, 0.1818847656, 0.2409667969, 0.2409667969, 0.1818847656, 0.0974121094, 0.0227050781, -0.013671875, -0.029296875],
  [0, 0, -0.0017089844, -0.0109863281, -0.0183105469, -0.0119628906, 0.0209960938, 0.0864257812, 0.1635742188, 0.2290039062, 0.263671875, 0.279296875],
];
const W4_8 = [
  [1.09375, -0.09375, 0, 0],
  [0.796875, 0.2265625, -0.0234375, 0],
  [0.203125, 0.8671875, -0.0703125, 0],
  [-0.0703125, 0.8671875, 0.2265625, -0.0234375],
  [-0.0234375, 0.2265625, 0.8671875, -0.0703125],
  [0, -0.0703125, 0.8671875, 0.203125],
  [0, -0.0234375, 0.2265625, 0.796875],
  [0, 0, -0.09375, 1.09375],
];
const OUT_16x12_TO_4x3 = [
  [0.5791929375, 0.4416911652, 0.1241314368],
  [0.0611128313, -0.0477277459, -0.0625382271],
  [0.0066099521, -0.0154961278, 0.0126598725],
  [0.0135092615, -0.0002373207, 0.0100255631],
];
const OUT_16x12_TO_5x7 = [
  [0.6104841647, 0.6228967596, 0.5505525157, 0.527569094, 0.4301339044, 0.2618584146, 0.0907583124],
  [0.0637675882, 0.3186069822, 0.4031929599, -0.0398238742, -0.3198013942, -0.1847168149, -0.0110514518],
  [-0.5097764649, 0.2557502683, 0.2380146978, -0.3888763448, 0.0428846062, 0.1479734128, -0.0375708872],
  [0.2900706424, -0.1655488729, 0.1373488962, -0.1391009765, 0.1370882836, -0.0971211448, 0.0320253547],
  [0.0034084608, -0.0649780955, 0.0184941131, 0.0486720374, -0.0664159873, 0.0376568158, 0.0216230317],
];

/** The script's fixed image: x[i, j] = sin(0.7 i + 0.3 j)·cos(0.2 i j). */
const fixedImage = (h: number, w: number): Float32Array =>
  Float32Array.from({ length: h * w }, (_, k) => {
    const i = Math.floor(k / w),
      j = k % w;
    return Math.sin(0.7 * i + 0.3 * j) * Math.cos(0.2 * i * j);
  });

function expectMatrix(actual: ArrayLike<number>, expected: number[][], tol: number): void {
  const flat = expected.flat();
  expect(actual.length).toBe(flat.length);
  for (let i = 0; i < flat.length; i++) expect(Math.abs(actual[i]! - flat[i]!), `entry ${i}`).toBeLessThan(tol);
}

describe('bicubicResizeMatrix', () => {
  it('matches the MATLAB imresize weights when shrinking ×4 (antialiased)', () => {
    expectMatrix(denseOf(bicubicResizeMatrix(16, 4)), W16_4, 1e-9);
    expectMatrix(denseOf(bicubicResizeMatrix(12, 3)), W12_3, 1e-9);
  });

  it('uses the plain cubic when enlarging', () => {
    expectMatrix(denseOf(bicubicResizeMatrix(4, 8)), W4_8, 1e-12);
  });

  it('is the identity at scale 1 and rows sum to 1', () => {
    expectMatrix(
      denseOf(bicubicResizeMatrix(5, 5)),
      [0, 1, 2, 3, 4].map((i) => [0, 1, 2, 3, 4].map((j) => (i === j ? 1 : 0))),
      1e-15,
    );
    const m = denseOf(bicubicResizeMatrix(256, 64));
    for (let i = 0; i < 64; i++) expect(Math.abs(m.subarray(i * 256, (i + 1) * 256).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
  });
});

describe('resizeImage', () => {
  it('matches the reference resize of a fixed image (shrink 16×12 → 4×3 and 5×7)', () => {
    const x = tensor([1, 1, 16, 12], fixedImage(16, 12));
    const a = resizeImage(x, 4, 3);
    expect(a.shape).toEqual([1, 1, 4, 3]);
    expectMatrix(a.data, OUT_16x12_TO_4x3, 1e-6);
    const b = resizeImage(tensor([16, 12], fixedImage(16, 12)), 5, 7);
    expect(b.shape).toEqual([5, 7]);
    expectMatrix(b.data, OUT_16x12_TO_5x7, 1e-6);
  });
});

describe('sr4', () => {
  it('computes the reference ×4 downsampling on every channel', () => {
    const op = createOperator('sr4', { shape: [2, 16, 12] });
    expect(op.outShape).toEqual([2, 4, 3]);
    const plane = fixedImage(16, 12);
    const x = tensor(
      [1, 2, 16, 12],
      Float32Array.from({ length: 384 }, (_, k) => (k < 192 ? plane[k]! : -2 * plane[k - 192]!)),
    );
    const y = op.apply(x);
    expectMatrix(y.data.subarray(0, 12), OUT_16x12_TO_4x3, 1e-6);
    expectMatrix(
      y.data.subarray(12),
      OUT_16x12_TO_4x3.map((r) => r.map((v) => -2 * v)),
      2e-6,
    );
  });

  it('maps a constant image to the same constant', () => {
    const op = createOperator('sr4', { shape: [3, 64, 64] });
    const y = op.apply(tensor([2, 3, 64, 64], new Float32Array(2 * 3 * 64 * 64).fill(0.37)));
    expect(y.shape).toEqual([2, 3, 16, 16]);
    for (const v of y.data) expect(Math.abs(v - 0.37)).toBeLessThan(1e-6);
  });

  it('uses f = 4 at every size and shows y upsampled by nearest neighbour', () => {
    expect(superResolution.defaults([3, 256, 256])).toEqual({ factor: 4 });
    expect(superResolution.defaults([3, 32, 32])).toEqual({ factor: 4 });
    const op = createOperator('sr4', { shape: [1, 8, 4] });
    const y = tensor([1, 1, 2, 1], [5, -3]);
    const v = op.view(y);
    expect(v.shape).toEqual([1, 1, 8, 4]);
    expect(Array.from(v.data)).toEqual([...Array(16).fill(5), ...Array(16).fill(-3)]);
  });

  it('rejects sizes not divisible by the factor, naming sr4 and the shape', () => {
    expect(() => createOperator('sr4', { shape: [3, 30, 32] })).toThrow(/sr4.*3×30×32/);
    expect(() => createOperator('sr4', { shape: [3, 32, 30] })).toThrow(/sr4.*divisible.*3×32×30/);
    expect(() => createOperator('sr4', { shape: [3, 32, 32], params: { factor: 3 } })).toThrow(/sr4.*3×32×32/);
    expect(createOperator('sr4', { shape: [3, 32, 32], params: { factor: 2 } }).outShape).toEqual([3, 16, 16]);
  });
});
