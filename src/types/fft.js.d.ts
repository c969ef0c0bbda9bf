declare module 'fft.js' {
  /** Radix-4 complex FFT of a power-of-two size (interleaved re/im arrays). */
  export default class FFT {
    constructor(size: number);
    readonly size: number;
    createComplexArray(): number[];
    /** Unnormalised forward DFT: out_k = Σ data_j e^{−2πijk/n}. `out` must differ from `data`. */
    transform(out: ArrayLike<number> & { [i: number]: number }, data: ArrayLike<number>): void;
    /** Inverse DFT including the 1/n factor. */
    inverseTransform(out: ArrayLike<number> & { [i: number]: number }, data: ArrayLike<number>): void;
  }
}
