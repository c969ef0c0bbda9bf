/**
 * A search in its own engine thread (worker.ts), for hosts whose event loop must stay free (the
 * studio's server and desktop main process). Events arrive as the studio's tune events; cancel
 * asks the thread to stop after the row in flight, and the thread ends with the search.
 */
import type { WireTuneEvent } from '../../protocol/tune';
import { TUNE_FINAL } from '../../protocol/tune';
import { nativeCounter, terminateWhenIdle } from '../runtime/worker/native';
import { engineWorker } from '../runtime/worker/spawn';
import type { TuneSpec } from './tune';
import type { ToTuneThread } from './worker';

/** A search running in a thread. */
export interface TuneThread {
  /** Stops the search after the row in flight; a `tune-cancelled` event follows. */
  cancel(): void;
  /** Ends the thread at once (the host is closing); no further event is sent. */
  terminate(): Promise<void>;
  /** Resolves with the last event once the search has ended. */
  done: Promise<WireTuneEvent>;
}

/** Starts `spec` into folder `out` in a new thread; `command` is recorded in its reports. */
export function tuneInThread(spec: TuneSpec, out: string, command: string, onEvent: (e: WireTuneEvent) => void): TuneThread {
  const busy = nativeCounter();
  const worker = engineWorker('tune-worker', new URL('./worker.ts', import.meta.url), { workerData: { nativeCalls: busy } });
  let ended = false;
  const done = new Promise<WireTuneEvent>((resolve) => {
    const end = (e: WireTuneEvent): void => {
      if (ended) return;
      ended = true;
      onEvent(e);
      resolve(e);
      void terminateWhenIdle(worker, busy);
    };
    worker.on('message', (e: WireTuneEvent) => (TUNE_FINAL.has(e.type) ? end(e) : !ended && onEvent(e)));
    worker.on('error', (e) => end({ type: 'tune-error', message: `the tuning thread failed: ${e.message}` }));
    worker.on('exit', (code) => end({ type: 'tune-error', message: `the tuning thread exited (code ${code}) before the search ended` }));
  });
  worker.postMessage({ type: 'start', spec, out, command } satisfies ToTuneThread);
  return {
    cancel: () => worker.postMessage({ type: 'cancel' } satisfies ToTuneThread),
    async terminate() {
      ended = true;
      await terminateWhenIdle(worker, busy);
    },
    done,
  };
}
