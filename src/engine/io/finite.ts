/**
 * Finiteness at the engine's boundaries. A NaN or ±Infinity that enters with a file or a computed
 * measurement does not fail loudly later: NaN in y makes every residual NaN, which comparisons
 * treat as "no correction", so a run ends "done" with a meaningless result. Inputs are therefore
 * checked where they enter, and the message names the source and the first bad entry.
 */
import { shapeStr } from '../tensor/tensor';

/** Index of the first NaN or ±Infinity in `data`, or −1 when every value is finite. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

/** The C-order multi-index of flat index `i` in an array of `shape`. */
export function multiIndex(shape: readonly number[], i: number): number[] {
  const out = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    out[k] = d > 0 ? i % d : 0;
    i = d > 0 ? Math.floor(i / d) : i;
  }
  return out;
}

/**
 * Why `t` cannot be used, `"<what>: value NaN at index 5 [0, 0, 0, 5] of 1×3×32×32 is not
 * finite"`, or undefined when every value is finite.
 * @param what - the source, named as the user knows it (a file path, a node)
 */
export function nonFiniteProblem(t: { shape: readonly number[]; data: ArrayLike<number> }, what: string): string | undefined {
  const i = firstNonFinite(t.data);
  if (i < 0) return undefined;
  const at = t.shape.length > 1 ? ` [${multiIndex(t.shape, i).join(', ')}]` : '';
  return `${what}: value ${t.data[i]} at index ${i}${at} of ${shapeStr(t.shape)} is not finite`;
}
