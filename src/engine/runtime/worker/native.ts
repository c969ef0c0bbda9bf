/**
 * Terminating a worker thread while onnxruntime has native work in flight in it (a session being
 * created, a run on the add-on's thread pool) ends the whole process, not the thread: the
 * add-on's completion callback throws into the torn-down environment ("terminate called after
 * throwing an instance of 'Napi::Error'"), which killed a browser-mode server when a run was
 * cancelled while its network was loading. So engine workers count their ONNX calls in flight in
 * a counter shared with the host, and hosts terminate a worker only once it reads zero.
 */
import type { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/**
 * Shared between a host and one worker: [0] the worker's native calls in flight, [1] set by the
 * host when it wants to terminate (no new call may start then).
 */
export const nativeCounter = (): Int32Array => new Int32Array(new SharedArrayBuffer(8));

type Create = typeof ort.InferenceSession.create;
type Run = ort.InferenceSession['run'];
type Release = ort.InferenceSession['release'];

/**
 * In a worker: counts every `InferenceSession.create`, `run` and `release` of this thread's
 * onnxruntime in `busy` while it is in flight. Every engine module reaches onnxruntime through
 * the same module instance, so wrapping the class once covers them all (one place instead of a
 * wrapper at each of the ~15 call sites).
 */
export function countNativeCalls(busy: Int32Array): void {
  const cls = ort.InferenceSession as unknown as { create: Create; prototype: { run: Run; release: Release } };
  const counted = <A extends unknown[], R>(f: (this: unknown, ...a: A) => Promise<R>) =>
    async function (this: unknown, ...a: A): Promise<R> {
      // Counted before the stop flag is read, so a host that saw zero after setting it sees no call start.
      Atomics.add(busy, 0, 1);
      if (Atomics.load(busy, 1) !== 0) {
        Atomics.sub(busy, 0, 1);
        throw new Error('the engine worker is stopping: no new ONNX call');
      }
      try {
        return await f.apply(this, a);
      } finally {
        Atomics.sub(busy, 0, 1);
      }
    };
  cls.create = counted(cls.create as (...a: unknown[]) => Promise<ort.InferenceSession>) as Create;
  cls.prototype.run = counted(cls.prototype.run as (...a: unknown[]) => Promise<ort.InferenceSession.ReturnType>) as Run;
  cls.prototype.release = counted(cls.prototype.release as () => Promise<void>) as Release;
}

/**
 * Terminates `worker` as soon as its native calls (counted in `busy`) are done, after forbidding
 * new ones; a worker in the middle of one is left to finish it and is unref'd meanwhile, so it
 * never keeps the process alive.
 */
export async function terminateWhenIdle(worker: Worker, busy: Int32Array, pollMs = 20): Promise<void> {
  Atomics.store(busy, 1, 1);
  if (Atomics.load(busy, 0) > 0) {
    worker.unref();
    let exited = false;
    worker.once('exit', () => (exited = true));
    while (!exited && Atomics.load(busy, 0) > 0) await new Promise((r) => setTimeout(r, pollMs).unref());
    if (exited) return;
  }
  await worker.terminate();
}
