/**
 * Runs the compared entries on the engine: fetches preset graphs (cached), prepares each request
 * (see planRun), starts every run in parallel (each in its own engine worker), and feeds their
 * events to the reducer in batches (runs with `throttleMs: 0` emit an event per iteration, so
 * dispatching each would re-render thousands of times). Cancels what is still running on unmount.
 */
import { useCallback, useEffect, useReducer, useRef } from 'react';
import type { EngineClient } from '../../protocol/client';
import type { WireGraph } from '../../protocol/messages';
import { CURRENT, planRun } from './logic';
import type { Settings } from './logic';
import { initialState, reduce } from './state';
import type { CompareState, Tagged } from './state';

/** How often queued events reach React. */
const FLUSH_MS = 40;

interface Handle {
  cancel: () => Promise<void>;
}

export interface CompareRuns {
  state: CompareState;
  /** The preset's graph (fetched once). */
  presetDoc: (name: string) => Promise<WireGraph>;
  runAll: (names: string[], settings: Settings, current?: WireGraph) => void;
  cancelAll: () => void;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The Compare view's runs. */
export function useCompareRuns(engine: EngineClient): CompareRuns {
  const [state, dispatch] = useReducer(reduce, initialState);
  const docs = useRef(new Map<string, Promise<WireGraph>>());
  const queue = useRef<Tagged[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const token = useRef(0);
  const handles = useRef(new Map<string, Handle>());
  const cancelled = useRef(new Set<number>());

  const flush = useCallback(() => {
    timer.current = undefined;
    const batch = queue.current;
    queue.current = [];
    if (batch.length) dispatch({ type: 'events', batch });
  }, []);

  const push = useCallback(
    (t: Tagged) => {
      queue.current.push(t);
      timer.current ??= setTimeout(flush, FLUSH_MS);
    },
    [flush],
  );

  const presetDoc = useCallback(
    (name: string): Promise<WireGraph> => {
      let p = docs.current.get(name);
      if (!p) {
        p = engine.call('presets.get', { name });
        p.catch(() => docs.current.delete(name)); // let a later attempt retry
        docs.current.set(name, p);
      }
      return p;
    },
    [engine],
  );

  const cancelAll = useCallback(() => {
    const t = token.current;
    cancelled.current.add(t);
    for (const [key, h] of handles.current) {
      if (key.startsWith(`${t}/`)) void h.cancel().catch(() => undefined);
    }
    dispatch({ type: 'cancelling', token: t });
  }, []);

  const runAll = useCallback(
    (names: string[], settings: Settings, current?: WireGraph) => {
      // A new comparison replaces the previous one: stop what still runs.
      for (const h of handles.current.values()) void h.cancel().catch(() => undefined);
      handles.current.clear();
      flush();
      const t = ++token.current;
      dispatch({ type: 'start', token: t, names, settings });
      for (const name of names) {
        void (async () => {
          try {
            const doc = name === CURRENT ? current : await presetDoc(name);
            if (!doc) throw new Error('no graph is open in the editor');
            if (cancelled.current.has(t)) return dispatch({ type: 'aborted', token: t, name });
            const plan = planRun(doc, settings);
            dispatch({ type: 'prepared', token: t, name, K: plan.K, ...(plan.previewId ? { previewId: plan.previewId } : {}) });
            let ended = false;
            const h = await engine.run(plan.request, (event) => {
              push({ token: t, name, event });
              if (event.type === 'done' || event.type === 'cancelled' || event.type === 'error') {
                ended = true;
                handles.current.delete(`${t}/${name}`);
              }
            });
            if (ended) return;
            if (t !== token.current || cancelled.current.has(t)) void h.cancel().catch(() => undefined);
            else handles.current.set(`${t}/${name}`, h);
          } catch (e) {
            flush();
            dispatch({ type: 'failed', token: t, name, message: messageOf(e) });
          }
        })();
      }
    },
    [engine, flush, presetDoc, push],
  );

  useEffect(
    () => () => {
      clearTimeout(timer.current);
      timer.current = undefined;
      queue.current = [];
      for (const h of handles.current.values()) void h.cancel().catch(() => undefined);
      handles.current.clear();
    },
    [],
  );

  return { state, presetDoc, runAll, cancelAll };
}
