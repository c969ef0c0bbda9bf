/**
 * Fourier phase retrieval: A(x) = |F P x₀₁| (amplitude) or |F P x₀₁|² (intensity), per channel,
 * where x₀₁ = (x+1)/2 (DAPS) or x₀₁ = x (DPS/DDiff), P zero-pads by `pad` pixels on every side
 * (64 at 256 px → 384×384, "oversampling 2" in DAPS's sense) and F is the orthonormal 2-D DFT.
 * The output is fftshift-ed so the zero frequency sits in the centre. The centring ifftshift of
 * the input that DAPS applies only multiplies F's output by a unit-modulus phase, which |·| removes,
 * so it is omitted: only the output shift matters. The padded grid (48, 96, 384 …) is not a power of
 * two: fft.ts uses Bluestein. The amplitude VJP divides by |z|; where |z| = 0 (a kink of |·|) it
 * uses 0, a valid subgradient choice.
 */
import type { Shape, Tensor } from '../tensor/tensor';
import { fft2, fftshift2 } from '../tensor/fft';
import { tensor } from '../tensor/tensor';
import { mapBatch, mapBatch2 } from './batch';
import { scaleLength } from './scaling';
import type { OperatorSpec } from './types';
import { phaseRetrievalParams } from '../../nodes/operatorParams';

/**
 * y = fftshift(|F P x₀₁|) per channel (`phase-retrieval`, ×2 oversampling): nonlinear, analytic VJP.
 * `view(y)` is log(1 + max(y, 0)) rescaled to [−1, 1] per sample (min → −1, max → 1; 0 when y is
 * constant); negative values, which only noise produces, count as 0.
 */
export const phaseRetrieval: OperatorSpec<typeof phaseRetrievalParams> = {
  id: 'phase-retrieval',
  title: 'Phase retrieval',
  summary: 'A(x) = |F(pad(x₀₁))|: Fourier magnitudes of the zero-padded image (oversampling 2), phase lost',
  doc:
    'A(x) = |F P x₀₁| per channel with x₀₁ = (x+1)/2 (DAPS; inputRange "pm1" uses x₀₁ = x as DPS/DDiff), P zero ' +
    'padding by 64 px on each side at 256 px (384×384 grid; the pad scales with min(H, W)/256: 96 at 64 px, 48 at ' +
    '32 px), F the orthonormal 2-D DFT, output fftshift-ed (zero frequency centred). measure "intensity" gives ' +
    '|F P x₀₁|². VJP: Pᵀ Re(F⁻¹((v/|z|) z))·dx₀₁/dx with z = F P x₀₁ (0 where |z| = 0), or 2·Pᵀ Re(F⁻¹(v z))·dx₀₁/dx ' +
    'for intensity. The view is log(1 + y) rescaled to [−1, 1] per sample. Non-power-of-two grids use Bluestein ' +
    'transforms (npm run bench:ops prints their cost against radix-4); set pad so that H + 2·pad is a power of two for speed.',
  linear: false,
  seeded: false,
  capabilities: ['vjp'],
  params: phaseRetrievalParams,
  defaults: (shape) => ({ pad: scaleLength(64, shape, 0), measure: 'amplitude', inputRange: '01' }),
  create(p, ctx) {
    const [c, h, w] = ctx.shape as [number, number, number];
    const H = h + 2 * p.pad,
      W = w + 2 * p.pad;
    const inShape: Shape = [c, h, w];
    const outShape: Shape = [c, H, W];
    const who = 'operator phase-retrieval';
    const slope = p.inputRange === '01' ? 0.5 : 1;
    const offset = p.inputRange === '01' ? 0.5 : 0;
    const intensity = p.measure === 'intensity';

    /** z = F P x₀₁ for channel k of one sample, as an interleaved complex H×W grid. */
    const spectrum = (x: Float32Array, k: number): Float64Array => {
      const g = new Float64Array(2 * H * W);
      for (let r = 0; r < h; r++) {
        for (let q = 0; q < w; q++) g[2 * ((r + p.pad) * W + q + p.pad)] = slope * x[k * h * w + r * w + q]! + offset;
      }
      fft2(g, H, W, false, 'ortho');
      return g;
    };

    return {
      id: 'phase-retrieval',
      inShape,
      outShape,
      linear: false,
      params: { ...p },
      artifacts: {},
      apply: (x: Tensor, result?: Tensor) =>
        mapBatch(
          x,
          inShape,
          outShape,
          who,
          'input x',
          (inp, out) => {
            const amp = new Float64Array(H * W);
            for (let k = 0; k < c; k++) {
              const z = spectrum(inp, k);
              for (let i = 0; i < H * W; i++) {
                const m2 = z[2 * i]! ** 2 + z[2 * i + 1]! ** 2;
                amp[i] = intensity ? m2 : Math.sqrt(m2);
              }
              out.set(fftshift2(amp, H, W), k * H * W);
            }
          },
          result,
        ),
      vjp: (x: Tensor, v: Tensor, result?: Tensor) =>
        mapBatch2(
          x,
          v,
          inShape,
          outShape,
          inShape,
          who,
          (xi, vi, out) => {
            for (let k = 0; k < c; k++) {
              const z = spectrum(xi, k);
              // v lives in the shifted layout; bring it back to F's layout first.
              const vk = fftshift2(Float64Array.from(vi.subarray(k * H * W, (k + 1) * H * W)), H, W, 1, true);
              for (let i = 0; i < H * W; i++) {
                const re = z[2 * i]!,
                  im = z[2 * i + 1]!;
                let f: number;
                if (intensity) f = 2 * vk[i]!;
                else {
                  const m = Math.sqrt(re * re + im * im); // not Math.hypot: several times slower in V8
                  f = m > 0 ? vk[i]! / m : 0;
                }
                z[2 * i] = f * re;
                z[2 * i + 1] = f * im;
              }
              // F is unitary, so Fᴴ = F⁻¹ (ortho); Pᵀ crops; the real part is the real-input gradient.
              fft2(z, H, W, true, 'ortho');
              for (let r = 0; r < h; r++) {
                for (let q = 0; q < w; q++) out[k * h * w + r * w + q] = slope * z[2 * ((r + p.pad) * W + q + p.pad)]!;
              }
            }
          },
          result,
        ),
      view(y: Tensor): Tensor {
        // log(1 + y) per sample, rescaled to [−1, 1] (amplitudes are ≥ 0 up to noise).
        const out = tensor(y.shape);
        const per = c * H * W;
        for (let s = 0; s < y.shape[0]!; s++) {
          let lo = Infinity,
            hi = -Infinity;
          const lg = new Float64Array(per);
          for (let i = 0; i < per; i++) {
            lg[i] = Math.log1p(Math.max(0, y.data[s * per + i]!));
            lo = Math.min(lo, lg[i]!);
            hi = Math.max(hi, lg[i]!);
          }
          for (let i = 0; i < per; i++) out.data[s * per + i] = hi > lo ? (2 * (lg[i]! - lo)) / (hi - lo) - 1 : 0;
        }
        return out;
      },
    };
  },
};
