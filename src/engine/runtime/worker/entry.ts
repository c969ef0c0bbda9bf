/**
 * Engine worker thread: runs one job at a time from its host and streams events back, so a long
 * run never blocks the host's event loop (previews, cancel, other requests stay responsive).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compile } from '../../compile/compile';
import { studyRow } from '../../eval/study';
import { releaseOperator } from '../../operators/onnx/spec';
import { loadPlugins } from '../../plugin/load';
import { prepareBackend } from '../backend';
import type { RunReport } from '../events';
import { runPlan } from '../run';
import { countNativeCalls } from './native';
import type { FromWorker, ToWorker, WorkerJob } from './protocol';

const port = parentPort!;
// The host terminates this thread only while no onnxruntime call is in flight (see native.ts).
const busy = (workerData as { nativeCalls?: Int32Array } | undefined)?.nativeCalls;
if (busy) countNativeCalls(busy);
let abort: AbortController | undefined;
// The host's plugins (LAGRANGE_PLUGINS is copied into this thread's environment), loaded before any job compiles.
const plugins = loadPlugins();

function send(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

async function execute(job: WorkerJob, signal: AbortSignal): Promise<void> {
  await plugins;
  if (job.type === 'studyRow') {
    send({ type: 'row', row: (await studyRow(job.spec, job.solver, job.task, job.image, job.seed, signal)) ?? null });
    return;
  }
  const plan = await compile(job.doc, job.options);
  const m = plan.measurement;
  const wire = (t: typeof m.y): { shape: number[]; data: Float32Array } => ({ shape: [...t.shape], data: Float32Array.from(t.data) });
  send({ type: 'inputs', task: m.op.id, sigma: m.sigmaY, y: wire(m.y), ...(m.x ? { truth: wire(m.x) } : {}) });
  // The document chooses the backend; every report says which one ran, as the CLI's report.json does.
  const backend = job.doc.run.backend ?? 'js';
  const prepared = await prepareBackend(plan, backend);
  const stamp = (report: RunReport): RunReport => ({ ...report, backend });
  let r: Awaited<ReturnType<typeof runPlan>>;
  try {
    r = await runPlan(plan, {
      signal,
      ...(job.throttleMs !== undefined ? { throttleMs: job.throttleMs } : {}),
      backend: prepared,
      onEvent: (event) => send({ type: 'event', event: event.type === 'done' || event.type === 'cancelled' ? { ...event, report: stamp(event.report) } : event }),
    });
  } finally {
    await prepared.release(); // sessions hold the network's weights: free them with the run
    releaseOperator(m.op); // an ONNX operator folder's sessions too
  }
  const result = r.result ? { shape: [...r.result.shape], data: r.result.data } : undefined;
  send({ type: 'done', status: r.status, report: stamp(r.report), ...(result ? { result } : {}) }, result ? [result.data.buffer as ArrayBuffer] : []);
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') {
    abort?.abort();
    return;
  }
  abort = new AbortController();
  execute(m.job, abort.signal).catch((e: unknown) => {
    const err = e as Error & { nodeId?: string; iteration?: number };
    send({
      type: 'error',
      name: err.name ?? 'Error',
      message: err.message ?? String(e),
      ...(err.nodeId ? { nodeId: err.nodeId } : {}),
      ...(err.iteration !== undefined ? { iteration: err.iteration } : {}),
    });
  });
});
