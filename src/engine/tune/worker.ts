/**
 * The tuning thread: runs one search ({@link runTune}) for a studio host, so its rows (each a
 * solver run) never hold the host's event loop, and posts its progress as studio events. The
 * host sends `start` once and may send `cancel`; the search then stops after the row in flight,
 * keeping the finished rows in the folder's results.jsonl for a later resume.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WireTuneEvent } from '../../protocol/tune';
import { loadPlugins } from '../plugin/load';
import { countNativeCalls } from '../runtime/worker/native';
import { writeTuneFiles } from './report';
import { runTune, TuneInterrupted } from './tune';
import type { TuneSpec } from './tune';
import { tuneEvents, wireTuneResult } from './wire';

/** Host → thread. */
export type ToTuneThread = { type: 'start'; spec: TuneSpec; out: string; command: string } | { type: 'cancel' };

const port = parentPort!;
// The host terminates this thread only while no ONNX call is in flight (native.ts).
const busy = (workerData as { nativeCalls?: Int32Array } | undefined)?.nativeCalls;
if (busy) countNativeCalls(busy);

const abort = new AbortController();
const send = (e: WireTuneEvent): void => port.postMessage(e);

port.on('message', (m: ToTuneThread) => {
  if (m.type === 'cancel') return abort.abort();
  void (async () => {
    try {
      await loadPlugins();
      send({ type: 'tune-phase', phase: 'defaults', detail: 'the graph’s own values on every validation image (the score to beat)' });
      const res = await runTune(m.spec, m.out, { signal: abort.signal, ...tuneEvents(send) });
      writeTuneFiles(res, m.out, m.command);
      send({ type: 'tune-done', result: wireTuneResult(res, m.out) });
    } catch (e) {
      if (e instanceof TuneInterrupted || abort.signal.aborted) send({ type: 'tune-cancelled' });
      else send({ type: 'tune-error', message: (e as Error).message });
    }
  })();
});
