/**
 * `EngineClient`: everything the studio asks of the engine, over any {@link Transport} (WebSocket
 * in browser mode, the preload bridge in the desktop app). Typed by the protocol's method table.
 */
import type { Method, Params, Results, WireRunEvent } from './messages';

/** What a host connection provides. */
export interface Transport {
  request(method: string, params: unknown): Promise<unknown>;
  /** Every run event of this connection; returns an unsubscribe function. */
  onRunEvent(listener: (runId: string, event: WireRunEvent) => void): () => void;
  /** Called when the connection to the host is lost (runs in flight will send nothing more). */
  onClose?(listener: (reason: string) => void): void;
}

/** Typed calls plus per-run event subscription. */
export interface EngineClient {
  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  /** Starts a run; `onEvent` receives its events until done, cancelled or error. */
  run(params: Params<'run.start'>, onEvent: (e: WireRunEvent) => void): Promise<{ runId: string; cancel: () => Promise<void> }>;
}

const FINAL = new Set(['done', 'cancelled', 'error']);

/** The EngineClient over `transport`. */
export function engineClient(transport: Transport): EngineClient {
  const listeners = new Map<string, (e: WireRunEvent) => void>();
  const early = new Map<string, WireRunEvent[]>(); // events that arrive before run.start answers
  transport.onRunEvent((runId, event) => {
    const l = listeners.get(runId);
    if (l) l(event);
    else early.set(runId, [...(early.get(runId) ?? []), event]);
    if (FINAL.has(event.type)) listeners.delete(runId);
  });
  // A lost connection ends every run in flight with an error rather than leaving it "running".
  transport.onClose?.((reason) => {
    for (const [runId, l] of listeners) {
      listeners.delete(runId);
      l({ type: 'error', message: reason });
    }
  });
  const call = <M extends Method>(method: M, params: Params<M>): Promise<Results[M]> => transport.request(method, params) as Promise<Results[M]>;
  return {
    call,
    async run(params, onEvent) {
      const { runId } = await call('run.start', params);
      listeners.set(runId, onEvent);
      for (const e of early.get(runId) ?? []) {
        onEvent(e);
        if (FINAL.has(e.type)) listeners.delete(runId);
      }
      early.delete(runId);
      return { runId, cancel: async () => void (await call('run.cancel', { runId })) };
    },
  };
}
