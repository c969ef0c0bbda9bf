/**
 * Where kernels get their output and scratch tensors. By default every tensor is a fresh
 * allocation; the runtime instead hands them a {@link BufferPool}, which recycles the buffers of
 * tensors that nothing reads any more, so a steady-state solver iteration allocates (almost) no
 * new image-sized Float32Arrays. A pooled tensor's contents are unspecified: whoever allocates
 * one writes every entry before reading it.
 */
import type { Shape, Tensor } from './tensor';
import { sizeOf, tensor } from './tensor';

/** A source of tensors for kernels, and the place to hand back scratch tensors they no longer read. */
export interface Allocator {
  /** A tensor of `shape` whose entries are unspecified (callers overwrite every one). */
  alloc(shape: Shape): Tensor;
  /** Hands back a tensor obtained from {@link Allocator.alloc} that nothing will read again. */
  release(t: Tensor): void;
}

/** Fresh zero tensors, nothing recycled: what kernels use when given no allocator. */
export const freshAllocator: Allocator = { alloc: (shape) => tensor(shape), release: () => {} };

/** Counters of a {@link BufferPool}, for tests and benchmarks. */
export interface PoolStats {
  /** Buffers created because none of the size was free (the allocations the pool could not avoid). */
  allocated: number;
  /** Requests served with a recycled buffer. */
  reused: number;
  /** Tensors handed back and kept for reuse. */
  released: number;
}

/** Options of a {@link BufferPool}. */
export interface PoolOptions {
  /**
   * Fill every released buffer with NaN, so that reading a recycled tensor before writing it (or
   * after giving it back) makes a run fail its NaN check instead of silently changing its numbers.
   */
  poison?: boolean;
}

/**
 * Free buffers by element count (a buffer serves any shape of that size). Only buffers the pool
 * made are ever recycled, each its own ArrayBuffer (so a host may transfer a result's buffer
 * without detaching others). A second release of a tensor, a view into a buffer or a tensor from
 * elsewhere is ignored: a stray release never puts a buffer on the free list twice, or one that a
 * prior or operator might still hold.
 */
export class BufferPool implements Allocator {
  private readonly free = new Map<number, Float32Array[]>();
  /** Buffers this pool may recycle: true while free, false while in use. */
  private readonly owned = new WeakMap<ArrayBufferLike, boolean>();
  readonly stats: PoolStats = { allocated: 0, reused: 0, released: 0 };

  constructor(private readonly opts: PoolOptions = {}) {}

  /** A tensor of `shape`: a free buffer of its size if there is one (old entries), else zeros. */
  alloc(shape: Shape): Tensor {
    const n = sizeOf(shape);
    const data = this.free.get(n)?.pop();
    if (data) {
      this.owned.set(data.buffer, false);
      this.stats.reused++;
      return tensor(shape, data);
    }
    const t = tensor(shape);
    this.owned.set(t.data.buffer, false);
    this.stats.allocated++;
    return t;
  }

  /** Recycles `t` if this pool owns its buffer and it is in use; returns whether it did. */
  release(t: Tensor): boolean {
    const d = t.data;
    if (this.owned.get(d.buffer) !== false || d.byteOffset !== 0 || d.byteLength !== d.buffer.byteLength) return false;
    this.owned.set(d.buffer, true);
    if (this.opts.poison) d.fill(NaN);
    let list = this.free.get(d.length);
    if (!list) this.free.set(d.length, (list = []));
    list.push(d);
    this.stats.released++;
    return true;
  }

  /** Never recycles `t` (e.g. a snapshot's state handed back by the caller to resume from). */
  forget(t: Tensor): void {
    if (this.owned.get(t.data.buffer) === false) this.owned.delete(t.data.buffer);
  }

  /** Number of free buffers held. */
  get size(): number {
    let n = 0;
    for (const list of this.free.values()) n += list.length;
    return n;
  }
}
