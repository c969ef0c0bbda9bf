/**
 * `lagrange worker --queue redis://host:port`: runs study jobs from the queue until interrupted
 * (Ctrl-C or SIGTERM: takes no further jobs and finishes the running ones). The files a job names
 * (presets, graph files, images, models, LPIPS networks) are looked for under the same paths as
 * on the machine that submitted it, or carried in the job (`eval --carry-images`); docs/studies.md.
 */
import { startQueueWorker } from '../engine/jobs/worker';
import { QueueError } from '../engine/jobs/redis';
import { PROVIDER_ORDER } from '../engine/priors/onnxPrior';
import { CliError, intOption } from './errors';

/** Options as commander hands them over. */
export interface WorkerArgs {
  queue: string;
  queueName?: string;
  provider?: string;
  concurrency?: string;
  name?: string;
  lockDuration?: string;
  stalledInterval?: string;
}

/** Runs the worker until SIGINT/SIGTERM (or `until` resolves); progress lines go to `log`. */
export async function runWorker(a: WorkerArgs, log: (line: string) => void, until?: Promise<void>): Promise<void> {
  if (a.provider && !(['auto', ...PROVIDER_ORDER] as string[]).includes(a.provider))
    throw new CliError(`--provider must be auto, ${PROVIDER_ORDER.join(', ')}; got '${a.provider}'`);
  const worker = await startQueueWorker({
    url: a.queue,
    ...(a.queueName ? { name: a.queueName } : {}),
    ...(a.provider ? { provider: a.provider } : {}),
    ...(a.name ? { workerName: a.name } : {}),
    concurrency: a.concurrency ? intOption('--concurrency', a.concurrency, 1) : 1,
    ...(a.lockDuration ? { lockDurationMs: intOption('--lock-duration', a.lockDuration, 100) } : {}),
    ...(a.stalledInterval ? { stalledIntervalMs: intOption('--stalled-interval', a.stalledInterval, 100) } : {}),
    log,
  }).catch((e: unknown) => {
    throw e instanceof QueueError ? new CliError(e.message, { cause: e }) : e;
  });
  log(`worker ${worker.name} waiting for jobs on ${a.queue} (${a.queueName ?? 'lagrange-study'})`);
  let onSignal = (): void => {};
  const stopped = new Promise<void>((resolve) => {
    onSignal = resolve;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await Promise.race([stopped, ...(until ? [until] : [])]);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  log(`worker ${worker.name} stopping: finishing the jobs it has`);
  await worker.close();
}
