/**
 * The Compare view's store (zustand, private to this folder): the run state (reduced by state.ts),
 * the setup (entries picked, shared settings) and the slider, plus one runner per engine client.
 * Kept outside the component so a comparison survives switching to the editor and back.
 */
import { create } from 'zustand';
import type { EngineClient } from '../../protocol/client';
import { SLIDER_MAX } from './logic';
import type { Settings } from './logic';
import { createRunner } from './runner';
import type { Runner } from './runner';
import { initialState, reduce } from './state';
import type { Action, CompareState } from './state';

export interface CompareStore {
  runs: CompareState;
  /** Entries the user picked; null until they touch the chips (defaults apply). */
  picked: string[] | null;
  /** Shared measurement; null until the view first mounts (then from its `initial`). */
  settings: Settings | null;
  /** The `initial` prop last applied (JSON), so a new one resets the setup. */
  appliedInitial: string | null;
  position: number;
  playing: boolean;
  dispatch: (a: Action) => void;
  set: (patch: Partial<Omit<CompareStore, 'dispatch' | 'set'>>) => void;
}

export const useCompareStore = create<CompareStore>()((set) => ({
  runs: initialState,
  picked: null,
  settings: null,
  appliedInitial: null,
  position: SLIDER_MAX,
  playing: false,
  dispatch: (a) => set((s) => ({ runs: reduce(s.runs, a) })),
  set: (patch) => set(patch),
}));

const runners = new WeakMap<EngineClient, Runner>();

/** The runner of `engine` (one per client, feeding this store). */
export function runnerFor(engine: EngineClient): Runner {
  let r = runners.get(engine);
  if (!r) {
    r = createRunner(engine, (a) => useCompareStore.getState().dispatch(a));
    runners.set(engine, r);
  }
  return r;
}
