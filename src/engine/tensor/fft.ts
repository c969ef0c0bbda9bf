/**
 * FFT plans over interleaved complex float64 arrays ([re0, im0, re1, im1, …]).
 *
 * Power-of-two sizes use fft.js (radix-4). Other sizes — phase retrieval pads a 32/64/256 px image
 * to 48/96/384 — use Bluestein's chirp-z identity, which turns a length-n DFT into a circular
 * convolution of power-of-two length m ≥ 2n−1 computed with fft.js. `npm run bench:ops` prints
 * its cost relative to the power-of-two transform.
 */
import FFT from 'fft.js';

/** A 1-D DFT of fixed length n (numpy conventions: forward unnormalised, inverse scaled by 1/n). */
export interface FftPlan {
  readonly n: number;
  /** out_k = Σ_j in_j e^{−2πi jk/n}. `out` and `inp` may be the same array. */
  forward(out: Float64Array, inp: Float64Array): void;
  /** out_j = (1/n) Σ_k in_k e^{+2πi jk/n}. `out` and `inp` may be the same array. */
  inverse(out: Float64Array, inp: Float64Array): void;
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

class Radix4Plan implements FftPlan {
  private readonly fft: FFT;
  private readonly tmp: Float64Array;
  constructor(readonly n: number) {
    this.fft = new FFT(n);
    this.tmp = new Float64Array(2 * n);
  }
  forward(out: Float64Array, inp: Float64Array): void {
    this.fft.transform(this.tmp, inp);
    out.set(this.tmp);
  }
  inverse(out: Float64Array, inp: Float64Array): void {
    this.fft.inverseTransform(this.tmp, inp);
    out.set(this.tmp);
  }
}

/** Length-1 DFT is the identity (fft.js needs n ≥ 2). */
class IdentityPlan implements FftPlan {
  readonly n = 1;
  forward(out: Float64Array, inp: Float64Array): void {
    out[0] = inp[0]!;
    out[1] = inp[1]!;
  }
  inverse(out: Float64Array, inp: Float64Array): void {
    this.forward(out, inp);
  }
}

/**
 * Bluestein: X_k = w̄_k Σ_j (x_j w̄_j) w_{k−j} with w_j = e^{iπ j²/n}; the sum is a circular
 * convolution of length m (power of two, m ≥ 2n − 1) done with two FFTs plus one precomputed.
 */
class BluesteinPlan implements FftPlan {
  private readonly inner: Radix4Plan;
  private readonly chirp: Float64Array; // e^{−iπ j²/n}, j < n
  private readonly kernelHat: Float64Array; // FFT of conj(chirp) wrapped to length m
  private readonly a: Float64Array;
  constructor(readonly n: number) {
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    this.inner = new Radix4Plan(m);
    this.chirp = new Float64Array(2 * n);
    for (let j = 0; j < n; j++) {
      // j² mod 2n keeps the angle small and exact for large n.
      const ang = (Math.PI * ((j * j) % (2 * n))) / n;
      this.chirp[2 * j] = Math.cos(ang);
      this.chirp[2 * j + 1] = -Math.sin(ang);
    }
    const b = new Float64Array(2 * m);
    for (let j = 0; j < n; j++) {
      b[2 * j] = this.chirp[2 * j]!;
      b[2 * j + 1] = -this.chirp[2 * j + 1]!;
      if (j > 0) {
        b[2 * (m - j)] = b[2 * j]!;
        b[2 * (m - j) + 1] = b[2 * j + 1]!;
      }
    }
    this.kernelHat = new Float64Array(2 * m);
    this.inner.forward(this.kernelHat, b);
    this.a = new Float64Array(2 * m);
  }
  forward(out: Float64Array, inp: Float64Array): void {
    const { n, a, chirp, kernelHat } = this;
    a.fill(0);
    for (let j = 0; j < n; j++) {
      const xr = inp[2 * j]!,
        xi = inp[2 * j + 1]!,
        cr = chirp[2 * j]!,
        ci = chirp[2 * j + 1]!;
      a[2 * j] = xr * cr - xi * ci;
      a[2 * j + 1] = xr * ci + xi * cr;
    }
    this.inner.forward(a, a);
    for (let k = 0; k < a.length; k += 2) {
      const ar = a[k]!,
        ai = a[k + 1]!,
        br = kernelHat[k]!,
        bi = kernelHat[k + 1]!;
      a[k] = ar * br - ai * bi;
      a[k + 1] = ar * bi + ai * br;
    }
    this.inner.inverse(a, a);
    for (let k = 0; k < n; k++) {
      const ar = a[2 * k]!,
        ai = a[2 * k + 1]!,
        cr = chirp[2 * k]!,
        ci = chirp[2 * k + 1]!;
      out[2 * k] = ar * cr - ai * ci;
      out[2 * k + 1] = ar * ci + ai * cr;
    }
  }
  inverse(out: Float64Array, inp: Float64Array): void {
    // ifft(x) = conj(fft(conj(x))) / n
    const n = this.n;
    for (let j = 0; j < n; j++) {
      out[2 * j] = inp[2 * j]!;
      out[2 * j + 1] = -inp[2 * j + 1]!;
    }
    this.forward(out, out);
    for (let j = 0; j < n; j++) {
      out[2 * j] = out[2 * j]! / n;
      out[2 * j + 1] = -out[2 * j + 1]! / n;
    }
  }
}

const plans = new Map<number, FftPlan>();

/** A cached DFT plan of length n (any n ≥ 1). */
export function fftPlan(n: number): FftPlan {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
  let p = plans.get(n);
  if (!p) {
    p = n === 1 ? new IdentityPlan() : isPow2(n) ? new Radix4Plan(n) : new BluesteinPlan(n);
    plans.set(n, p);
  }
  return p;
}

/** Normalisation of a 2-D transform, as numpy's `norm`. */
export type FftNorm = 'backward' | 'ortho';

/**
 * In-place 2-D DFT of an h×w interleaved complex array (row-major).
 * 'backward': forward unscaled, inverse scaled by 1/(hw). 'ortho': both scaled by 1/√(hw) (unitary).
 */
export function fft2(data: Float64Array, h: number, w: number, inverse = false, norm: FftNorm = 'backward'): void {
  if (data.length !== 2 * h * w) throw new RangeError(`fft2: array of ${data.length / 2} complex values is not ${h}×${w}`);
  const rowPlan = fftPlan(w);
  const colPlan = fftPlan(h);
  const row = new Float64Array(2 * w);
  for (let r = 0; r < h; r++) {
    const off = 2 * r * w;
    row.set(data.subarray(off, off + 2 * w));
    if (inverse) rowPlan.inverse(row, row);
    else rowPlan.forward(row, row);
    data.set(row, off);
  }
  const col = new Float64Array(2 * h);
  for (let c = 0; c < w; c++) {
    for (let r = 0; r < h; r++) {
      col[2 * r] = data[2 * (r * w + c)]!;
      col[2 * r + 1] = data[2 * (r * w + c) + 1]!;
    }
    if (inverse) colPlan.inverse(col, col);
    else colPlan.forward(col, col);
    for (let r = 0; r < h; r++) {
      data[2 * (r * w + c)] = col[2 * r]!;
      data[2 * (r * w + c) + 1] = col[2 * r + 1]!;
    }
  }
  if (norm === 'ortho') {
    const s = inverse ? Math.sqrt(h * w) : 1 / Math.sqrt(h * w);
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * s;
  }
}

/**
 * Circular shift of an h×w grid of `stride`-wide cells by (⌊h/2⌋, ⌊w/2⌋) — numpy's fftshift
 * (`inverse` gives ifftshift). Returns a new array.
 */
export function fftshift2<T extends Float32Array | Float64Array>(data: T, h: number, w: number, stride = 1, inverse = false): T {
  const out = data.slice() as T;
  const sh = inverse ? h - Math.floor(h / 2) : Math.floor(h / 2);
  const sw = inverse ? w - Math.floor(w / 2) : Math.floor(w / 2);
  for (let r = 0; r < h; r++) {
    const rr = (r + sh) % h;
    for (let c = 0; c < w; c++) {
      const cc = (c + sw) % w;
      for (let k = 0; k < stride; k++) out[(rr * w + cc) * stride + k] = data[(r * w + c) * stride + k]!;
    }
  }
  return out;
}
