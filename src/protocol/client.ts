/**
 * `EngineClient`: everything the studio asks of the engine, over any {@link Transport} (WebSocket
 * in browser mode, the preload bridge in the desktop app). Typed by the protocol's method table.
 */
import type { Method, Params, Results, WireRunEvent } from './messages';
import type { WireTuneEvent } from './tune';
import { isTuneId, TUNE_FINAL } from './tune';

/** What a host connection provides. */
export interface Transport {
  request(method: string, params: unknown): Promise<unknown>;
  /** Every run event of this connection (searches' events too, under `tune-` ids); returns an unsubscribe function. */
  onRunEvent(listener: (runId: string, event: WireRunEvent | WireTuneEvent) => void): () => void;
  /** Called when the connection to the host is lost (runs in flight will send nothing more). */
  onClose?(listener: (reason: string) => void): void;
}

/** Typed calls plus per-run event subscription. */
export interface EngineClient {
  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  /** Starts a run; `onEvent` receives its events until done, cancelled or error. */
  run(params: Params<'run.start'>, onEvent: (e: WireRunEvent) => void): Promise<{ runId: string; cancel: () => Promise<void> }>;
  /**
   * Starts a parameter search; `onEvent` receives its events until tune-done, tune-cancelled or
   * tune-error. Every client {@link engineClient} makes has it; stand-ins in tests may leave it out.
   */
  tune?(params: Params<'tune.start'>, onEvent: (e: WireTuneEvent) => void): Promise<{ tuneId: string; cancel: () => Promise<void> }>;
}

/** Per-id listeners that keep the events arriving before their start is answered. */
function channel<E extends { type: string }>(final: ReadonlySet<string>) {
  const listeners = new Map<string, (e: E) => void>();
  const early = new Map<string, E[]>();
  return {
    deliver(id: string, event: E): void {
      const l = listeners.get(id);
      if (l) l(event);
      else early.set(id, [...(early.get(id) ?? []), event]);
      if (final.has(event.type)) listeners.delete(id);
    },
    listen(id: string, l: (e: E) => void): void {
      listeners.set(id, l);
      for (const e of early.get(id) ?? []) {
        l(e);
        if (final.has(e.type)) listeners.delete(id);
      }
      early.delete(id);
    },
    close(reason: string, last: (reason: string) => E): void {
      for (const [id, l] of listeners) {
        listeners.delete(id);
        l(last(reason));
      }
    },
  };
}

const FINAL = new Set(['done', 'cancelled', 'error']);

/** The EngineClient over `transport`. */
export function engineClient(transport: Transport): EngineClient {
  const runs = channel<WireRunEvent>(FINAL);
  const tunes = channel<WireTuneEvent>(TUNE_FINAL);
  transport.onRunEvent((id, event) => {
    if (isTuneId(id)) tunes.deliver(id, event as WireTuneEvent);
    else runs.deliver(id, event as WireRunEvent);
  });
  // A lost connection ends every run and search in flight with an error rather than leaving it "running".
  transport.onClose?.((reason) => {
    runs.close(reason, (message) => ({ type: 'error', message }));
    tunes.close(reason, (message) => ({ type: 'tune-error', message }));
  });
  const call = <M extends Method>(method: M, params: Params<M>): Promise<Results[M]> => transport.request(method, params) as Promise<Results[M]>;
  return {
    call,
    async run(params, onEvent) {
      const { runId } = await call('run.start', params);
      runs.listen(runId, onEvent);
      return { runId, cancel: async () => void (await call('run.cancel', { runId })) };
    },
    async tune(params, onEvent) {
      const { tuneId } = await call('tune.start', params);
      tunes.listen(tuneId, onEvent);
      return { tuneId, cancel: async () => void (await call('tune.cancel', { tuneId })) };
    },
  };
}
