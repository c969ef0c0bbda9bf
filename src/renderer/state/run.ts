/**
 * Run state: the runs of this session (each with its own progress, previews, curves and result),
 * the queue of runs waiting for the engine, and the last run's error as a problem on the graph.
 * Never saved, and kept apart from the document so edits and runs do not disturb each other.
 * The bookkeeping is in ./runs.ts and ./problems.ts; starting and cancelling in ../run/actions.ts.
 */
import { create } from 'zustand';
import type { RunProblem } from './problems';
import type { QueuedRun, RunRecord } from './runs';
import { isActive } from './runs';

export type { CurvePoint, QueuedRun, RunRecord, RunStatus } from './runs';

/** Finished runs kept for their cards and exports. */
export const KEEP_RUNS = 8;

/** The run store. */
export interface RunState {
  /** Oldest first; at most one is active. */
  runs: RunRecord[];
  queue: QueuedRun[];
  /** The run the panel shows; the newest when unset. */
  selected?: number;
  /** The last run's error, shown on its node while the graph it ran is unchanged. */
  problem?: RunProblem;
  /** Key of the next run asked for. */
  nextKey: number;
  /** Forgets finished runs and the run error (another document was opened); the active run and the queue stay. */
  clearFinished(): void;
}

export const useRun = create<RunState>()((set) => ({
  runs: [],
  queue: [],
  nextKey: 1,
  clearFinished: () => set((s) => ({ runs: s.runs.filter(isActive), selected: undefined, problem: undefined })),
}));

/** The run holding the engine, if any. */
export const activeRun = (s: Pick<RunState, 'runs'>): RunRecord | undefined => s.runs.find(isActive);

/** The run the panel shows: the selected one, else the newest. */
export const shownRun = (s: Pick<RunState, 'runs' | 'selected'>): RunRecord | undefined => s.runs.find((r) => r.key === s.selected) ?? s.runs.at(-1);
