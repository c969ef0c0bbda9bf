import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { gaussianBlur, gaussianKernel1d, reflectIndex } from './gaussianBlur';
import { createOperator } from './registry';

// Reference numbers printed by tools/reference/gauss_blur_reference.py (numpy: np.pad
// mode='reflect' and a direct 2-D correlation with the k×k kernel, independent of this code).
const KERNEL5_CENTRE_ROW = [0.0294056097, 0.0833336249, 0.1179280096, 0.0833336249, 0.0294056097];
const BLUR_6x7_PHASE0 = [
  [0.6407188967, 0.6439819795, 0.6281273057, 0.5738819516, 0.4982401466, 0.4408996131, 0.4198174275],
  [0.625216931, 0.6112749042, 0.5694854679, 0.5116728888, 0.4489776702, 0.3984991001, 0.3774946258],
  [0.4993056014, 0.4787838841, 0.4402360014, 0.4052859879, 0.3593222017, 0.2997643225, 0.2691916448],
  [0.2406310687, 0.2729200823, 0.3397750048, 0.3552908613, 0.2675976553, 0.1280650899, 0.0596668689],
  [-0.0250675489, 0.0893257749, 0.2941472468, 0.3382763626, 0.1723682363, -0.0448385091, -0.1384198239],
  [-0.1288087065, 0.0230144619, 0.2853383822, 0.3312586957, 0.1225008626, -0.127975573, -0.2304806787],
];
const BLUR_6x7_PHASE1 = [
  [0.6865833107, 0.6288885908, 0.4949391612, 0.3574161646, 0.259154224, 0.2037885492, 0.1855136241],
  [0.5224510807, 0.4838984003, 0.4053913646, 0.3392346878, 0.2967116679, 0.2653405305, 0.2516487075],
  [0.1493107335, 0.1724272685, 0.2438550073, 0.3316645788, 0.3830382827, 0.3814937551, 0.3704383667],
  [-0.1781527054, -0.0813552449, 0.1392810058, 0.3306413763, 0.3950034248, 0.3599518838, 0.3284208937],
  [-0.3288225644, -0.189340445, 0.0971126053, 0.3035831874, 0.3351395686, 0.2671404621, 0.2217999396],
  [-0.3556140064, -0.2086841064, 0.0820863994, 0.2760735113, 0.2858438301, 0.2014606948, 0.1492293578],
];
// 9-tap kernel on a 3×4 image: the reflection has to repeat.
const BLUR_3x4_K9 = [
  [0.6663718195, 0.6577046521, 0.6402302237, 0.6310435452],
  [0.666668127, 0.6576352949, 0.6394798458, 0.6299218436],
  [0.6603849354, 0.6513543616, 0.6332207981, 0.6237146393],
];
const K61_CENTRE = 0.017683882566;

/** The script's fixed image: x[i, j] = sin(0.9 i + 0.4 j + phase)·cos(0.3 i j). */
const fixedImage = (h: number, w: number, phase: number): number[] =>
  Array.from({ length: h * w }, (_, k) => {
    const i = Math.floor(k / w),
      j = k % w;
    return Math.sin(0.9 * i + 0.4 * j + phase) * Math.cos(0.3 * i * j);
  });

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `entry ${i}`).toBeLessThan(tol);
}

describe('reflectIndex', () => {
  it('reflects without repeating the edge, periodically when the pad exceeds the side', () => {
    // np.pad(np.arange(3), 5, mode='reflect') = [1 0 1 2 1 0 1 2 1 0 1 2 1]
    expect(Array.from({ length: 13 }, (_, i) => reflectIndex(i - 5, 3))).toEqual([1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1]);
    expect(Array.from({ length: 5 }, (_, i) => reflectIndex(i - 2, 1))).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('deblur-gauss', () => {
  it('has the reference kernel and blur on a 2-channel 6×7 image (k = 5, σ = 1.2)', () => {
    expectClose(
      gaussianKernel1d(5, 1.2).map((g) => g * gaussianKernel1d(5, 1.2)[2]!),
      KERNEL5_CENTRE_ROW,
      1e-9,
    );
    const op = createOperator('deblur-gauss', { shape: [2, 6, 7], params: { kernelSize: 5, sigma: 1.2 } });
    const x = tensor([1, 2, 6, 7], [...fixedImage(6, 7, 0), ...fixedImage(6, 7, 1)]);
    const y = op.apply(x);
    expect(y.shape).toEqual([1, 2, 6, 7]);
    expectClose(y.data, [...BLUR_6x7_PHASE0.flat(), ...BLUR_6x7_PHASE1.flat()], 1e-6);
    const k = op.artifacts.kernel!;
    expect(k.shape).toEqual([1, 1, 5, 5]);
    expectClose(k.data.subarray(10, 15), KERNEL5_CENTRE_ROW, 1e-8);
  });

  it('handles a kernel wider than the image by repeated reflection', () => {
    const op = createOperator('deblur-gauss', { shape: [1, 3, 4], params: { kernelSize: 9, sigma: 2 } });
    expectClose(op.apply(tensor([1, 1, 3, 4], fixedImage(3, 4, 0.5))).data, BLUR_3x4_K9.flat(), 1e-6);
  });

  it('uses the papers’ 61×61, σ = 3 kernel at 256 px, summing to 1', () => {
    expect(gaussianBlur.defaults([3, 256, 256])).toEqual({ kernelSize: 61, sigma: 3 });
    const op = createOperator('deblur-gauss', { shape: [3, 256, 256] });
    const k = op.artifacts.kernel!;
    expect(k.shape).toEqual([1, 1, 61, 61]);
    expect(Math.abs(k.data.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    expect(Math.abs(k.data[30 * 61 + 30]! - K61_CENTRE)).toBeLessThan(1e-8);
    expect(op.outShape).toEqual([3, 256, 256]);
  });

  it('rescales the kernel with the image but keeps σ ≥ 1.5 px (15 at 64 px, 11 at 32 px)', () => {
    expect(gaussianBlur.defaults([3, 64, 64])).toEqual({ kernelSize: 15, sigma: 1.5 });
    expect(gaussianBlur.defaults([1, 32, 32])).toEqual({ kernelSize: 11, sigma: 1.5 });
    expect(gaussianBlur.defaults([3, 128, 128])).toEqual({ kernelSize: 31, sigma: 1.5 });
    expect(createOperator('deblur-gauss', { shape: [3, 64, 48] }).params).toEqual({ kernelSize: 11, sigma: 1.5 }); // 48/256 scales to 0.5625, under the floor
  });

  it('preserves constants, shows y as is and refuses even kernels', () => {
    const op = createOperator('deblur-gauss', { shape: [1, 8, 8] });
    const y = op.apply(tensor([1, 1, 8, 8], new Float32Array(64).fill(-0.4)));
    for (const v of y.data) expect(Math.abs(v + 0.4)).toBeLessThan(1e-6);
    expect(op.view(y)).toBe(y);
    expect(() => createOperator('deblur-gauss', { shape: [1, 8, 8], params: { kernelSize: 4 } })).toThrow(/kernelSize.*odd/);
  });
});
