/**
 * Synchronous calls into onnxruntime-node. The operator contract is synchronous (`apply`,
 * `adjoint`, `vjp` return tensors) while onnxruntime-node's sessions answer with promises, so the
 * sessions live in a worker thread (worker.ts) and the calling thread blocks on a shared flag
 * with `Atomics.wait`, then takes the reply off a private port with `receiveMessageOnPort`
 * (which needs no event loop turn).
 *
 * The `synckit` package does the same; it was considered and not used because it starts its
 * worker from a file path with its own TypeScript-runner detection, while engine workers must
 * start through `engineWorker` (tsx from the sources, the esbuild bundle in out/engine), and the
 * whole mechanism is these few lines.
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { engineWorker } from '../../runtime/worker/spawn';
import type { Shape, Tensor } from '../../tensor/tensor';
import { tensor } from '../../tensor/tensor';
import { OnnxOperatorError } from './card';

/** A request to the session thread. */
export type SyncRequest =
  | { type: 'open'; models: Record<string, Uint8Array>; providers: string[] }
  | { type: 'run'; model: string; inputs: Record<string, { shape: number[]; data: Float32Array }>; output: string }
  | { type: 'derive'; name: string; from: Uint8Array; wrt: string; file: string; providers: string[] }
  | { type: 'close' };

/** A reply from the session thread. */
export type SyncReply =
  | { type: 'ready' }
  | { type: 'opened'; provider: string }
  | { type: 'ran'; shape: number[]; data: Float32Array }
  | { type: 'derived'; vjp: DerivedVjp }
  | { type: 'closed' }
  | { type: 'error'; message: string };

/** A VJP model derived by reverse mode (`vjpModel`) and opened as a session. */
export interface DerivedVjp {
  readonly bytes: Uint8Array;
  /** Its cotangent input's name. */
  readonly cotangent: string;
  /** Its gradient output's name. */
  readonly grad: string;
}

/** How long a thread waits for one answer: starting the thread (tsx from the sources, on a loaded machine), opening, one forward. */
const WAIT_MS = 300_000;
/** How long a raised flag may precede its reply on the port. */
const REPLY_LAG_MS = 5_000;

/** Sessions over several models, called synchronously. */
export interface SyncSessions {
  /** The execution provider the sessions opened on. */
  readonly provider: string;
  /** Runs model `model` on `inputs` and returns its output `output`. */
  run(model: string, inputs: Readonly<Record<string, Tensor>>, output: string): Tensor;
  /**
   * Derives the VJP of the model `from` (bytes) with respect to its input `wrt` in the session
   * thread (the derivation runs the forward to read shapes) and opens it as model `name`.
   * @param file - names the model in a refusal (e.g. an op without a VJP rule)
   */
  derive(name: string, from: Uint8Array, wrt: string, file: string): DerivedVjp;
  /** Releases the sessions and ends the thread; later calls throw. */
  close(): void;
}

/**
 * Opens `models` (name → ModelProto bytes) in a session thread on the first of `providers` that
 * accepts each. Blocks until they are open.
 * @param who - named in errors (e.g. the operator folder)
 * @throws OnnxOperatorError when the thread does not start or a model does not open
 */
export function openSyncSessions(models: Readonly<Record<string, Uint8Array>>, providers: readonly string[], who: string): SyncSessions {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker | undefined = engineWorker('onnx-operator-worker', new URL('./worker.ts', import.meta.url), { workerData: { port: port2, flag }, transferList: [port2] });
  worker.unref(); // never keeps a process alive; close() ends it with the run
  const wait = (what: string): SyncReply => {
    if (Atomics.wait(flag, 0, 0, WAIT_MS) === 'timed-out') throw new OnnxOperatorError(`${who}: no answer from the ONNX session thread after ${WAIT_MS / 1000} s (${what})`);
    // The reply is posted before the flag is raised, but a port's delivery to this thread may lag
    // the shared store under load: poll briefly (1 ms sleeps, at most REPLY_LAG_MS) before giving up.
    let m = receiveMessageOnPort(port1)?.message as SyncReply | undefined;
    for (let waited = 0; !m && waited < REPLY_LAG_MS; waited++) {
      Atomics.wait(flag, 0, 1, 1);
      m = receiveMessageOnPort(port1)?.message as SyncReply | undefined;
    }
    if (!m) throw new OnnxOperatorError(`${who}: the ONNX session thread woke without a reply after ${REPLY_LAG_MS} ms (${what})`);
    if (m.type === 'error') throw new OnnxOperatorError(`${who}: ${what}: ${m.message}`);
    return m;
  };
  const call = (req: SyncRequest, what: string): SyncReply => {
    if (!worker) throw new OnnxOperatorError(`${who}: the operator's sessions were released; load it again`);
    Atomics.store(flag, 0, 0);
    port1.postMessage(req);
    return wait(what);
  };
  const close = (): void => {
    if (!worker) return;
    try {
      call({ type: 'close' }, 'release');
    } finally {
      void worker.terminate();
      worker = undefined;
      port1.close();
    }
  };
  let provider: string;
  try {
    wait('start');
    provider = (call({ type: 'open', models: { ...models }, providers: [...providers] }, 'open sessions') as { provider: string }).provider;
  } catch (e) {
    if (worker) void worker.terminate();
    worker = undefined;
    throw e;
  }
  return {
    provider,
    run(model, inputs, output) {
      // A view into a larger buffer (a batch sample, a pooled buffer) is sent as its own copy: a
      // structured clone would carry the whole buffer across.
      const whole = (d: Float32Array): boolean => d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;
      const wire = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { shape: [...t.shape], data: whole(t.data) ? t.data : t.data.slice() }]));
      const m = call({ type: 'run', model, inputs: wire, output }, `run ${model}`) as { shape: Shape; data: Float32Array };
      return tensor(m.shape, m.data);
    },
    derive(name, from, wrt, file) {
      return (call({ type: 'derive', name, from, wrt, file, providers: [...providers] }, `derive the VJP of ${file}`) as { vjp: DerivedVjp }).vjp;
    },
    close,
  };
}
