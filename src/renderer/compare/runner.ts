/**
 * Runs the compared entries on the engine: fetches preset graphs (cached), prepares each request
 * (see planRun), runs the entries one after another — so each is timed alone, as it would run by
 * itself — or, when the settings ask, all at once (each in its own engine worker), and hands their
 * events to `dispatch` in batches (runs with `throttleMs: 0` emit an event per iteration, so
 * dispatching each would re-render thousands of times). No React: the store owns one per engine,
 * so runs go on, and their results stay, while the view is not shown.
 */
import type { EngineClient } from '../../protocol/client';
import type { WireGraph } from '../../protocol/messages';
import { CURRENT, planRun } from './logic';
import type { Settings } from './logic';
import type { Action, Tagged } from './state';

/** How often queued events are dispatched. */
export const FLUSH_MS = 40;

export interface Runner {
  /** The preset's graph (fetched once; retried after a failure). */
  presetDoc: (name: string) => Promise<WireGraph>;
  /** Starts every entry on `settings`, replacing (and cancelling) the previous comparison. */
  runAll: (names: string[], settings: Settings, current?: WireGraph) => void;
  cancelAll: () => void;
  /** Dispatches queued events now. */
  flush: () => void;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const FINAL = new Set(['done', 'cancelled', 'error']);
/** Run tokens, unique across runners (a new engine client must not reuse an old token). */
let lastToken = 0;

/** A runner over `engine` whose state changes go to `dispatch`. */
export function createRunner(engine: EngineClient, dispatch: (a: Action) => void, flushMs = FLUSH_MS): Runner {
  const docs = new Map<string, Promise<WireGraph>>();
  const handles = new Map<string, { cancel: () => Promise<void> }>();
  const cancelled = new Set<number>();
  let queue: Tagged[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let token = lastToken;

  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    if (batch.length) dispatch({ type: 'events', batch });
  };
  const push = (t: Tagged): void => {
    queue.push(t);
    timer ??= setTimeout(flush, flushMs);
  };
  const stop = (h: { cancel: () => Promise<void> }): void => void h.cancel().catch(() => undefined);

  const presetDoc = (name: string): Promise<WireGraph> => {
    let p = docs.get(name);
    if (!p) {
      p = engine.call('presets.get', { name });
      p.catch(() => docs.delete(name));
      docs.set(name, p);
    }
    return p;
  };

  /** Starts entry `name`; resolves when its run has ended (or could not start). */
  const start = async (t: number, name: string, settings: Settings, current?: WireGraph): Promise<void> => {
    try {
      const doc = name === CURRENT ? current : await presetDoc(name);
      if (!doc) throw new Error('no graph is open in the editor');
      if (cancelled.has(t) || t !== token) return dispatch({ type: 'aborted', token: t, name });
      const plan = planRun(doc, settings);
      dispatch({ type: 'prepared', token: t, name, K: plan.K, ...(plan.previewId ? { previewId: plan.previewId } : {}) });
      let ended = false;
      let finished: () => void = () => {};
      const over = new Promise<void>((resolve) => (finished = resolve));
      const h = await engine.run(plan.request, (event) => {
        push({ token: t, name, event });
        if (FINAL.has(event.type)) {
          ended = true;
          handles.delete(`${t}/${name}`);
          finished();
        }
      });
      if (ended) return;
      if (t !== token || cancelled.has(t)) stop(h);
      else handles.set(`${t}/${name}`, h);
      await over;
    } catch (e) {
      flush();
      dispatch({ type: 'failed', token: t, name, message: messageOf(e) });
    }
  };

  return {
    presetDoc,
    flush,
    runAll(names, settings, current) {
      for (const h of handles.values()) stop(h);
      handles.clear();
      flush();
      const t = (token = ++lastToken);
      dispatch({ type: 'start', token: t, names, settings });
      if (settings.parallel) {
        for (const name of names) void start(t, name, settings, current);
        return;
      }
      void (async () => {
        for (const name of names) {
          if (t !== token || cancelled.has(t)) return dispatch({ type: 'aborted', token: t, name }); // the reducer already shows the rest cancelled
          await start(t, name, settings, current);
        }
      })();
    },
    cancelAll() {
      cancelled.add(token);
      for (const [key, h] of handles) if (key.startsWith(`${token}/`)) stop(h);
      dispatch({ type: 'cancelling', token });
    },
  };
}
