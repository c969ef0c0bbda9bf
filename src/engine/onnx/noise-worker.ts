/**
 * Noise worker thread (see `NoisePrefetcher` in noise.ts): draws each job's fields from the
 * engine's seeded streams and hands the buffers back by transfer, so they cross without a copy.
 */
import { parentPort } from 'node:worker_threads';
import type { NoiseAnswer, NoiseJob } from './noise';
import { drawNoise } from './noise';

const port = parentPort!;

port.on('message', (job: NoiseJob) => {
  let answer: NoiseAnswer;
  try {
    const drawn = drawNoise(job.requests, job.seed);
    answer = { type: 'drawn', id: job.id, fields: Object.fromEntries(Object.entries(drawn).map(([name, t]) => [name, t.data])) };
  } catch (e) {
    answer = { type: 'error', id: job.id, message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(answer, answer.type === 'drawn' ? Object.values(answer.fields).map((d) => d.buffer as ArrayBuffer) : []);
});
port.postMessage({ type: 'ready' } satisfies NoiseAnswer);
