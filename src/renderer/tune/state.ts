/**
 * The Tune panel's state: what the user set up (parameters and ranges, image splits, budget,
 * objective) and the search in flight or last finished (its plan, trials as they finish, the
 * result). Never saved, and apart from the document: a search does not touch the graph until
 * "Apply best".
 */
import { create } from 'zustand';
import type { WirePoint, WireRung, WireTuneEvent, WireTuneRange, WireTuneResult, WireObjective } from '../../protocol/tune';

/** One finished (trial, rung) evaluation. */
export interface TrialScore {
  trial: number;
  rung: number;
  point: WirePoint;
  score: number | null;
  error?: string;
}

/** A search as the panel shows it. */
export interface TuneRun {
  status: 'starting' | 'running' | 'done' | 'cancelled' | 'error';
  /** The task and graph name it searched. */
  task: string;
  graph: string;
  objective: WireObjective;
  ranges: WireTuneRange[];
  phase?: { phase: string; detail: string };
  rungs: WireRung[];
  iterations?: number;
  /** The planned trials (0: the graph's own values). */
  trials: { id: number; point: WirePoint }[];
  scores: TrialScore[];
  result?: WireTuneResult;
  error?: string;
}

/** The panel's set-up. */
export interface TuneSetup {
  /** `node.param` → its range; the chosen parameters are those in `chosen`. */
  ranges: Record<string, WireTuneRange>;
  chosen: string[];
  /** Image ref → split; images absent are not used. */
  splits: Record<string, 'val' | 'test'>;
  budgetKind: 'trials' | 'nfe';
  budget: number;
  objective: WireObjective;
  /** Full iteration budget K; undefined: the graph's own for the task. */
  iterations?: number;
  seed: number;
}

/** The tune store. */
export interface TuneState {
  /** Which graph and task the set-up was prefilled for (a new one resets it). */
  setupFor?: string;
  setup: TuneSetup;
  run?: TuneRun;
  /** Cancels the search in flight. */
  cancel?: () => Promise<void>;
  patch(p: Partial<TuneSetup>): void;
}

export const initialSetup = (): TuneSetup => ({ ranges: {}, chosen: [], splits: {}, budgetKind: 'trials', budget: 12, objective: 'psnr', seed: 0 });

export const useTune = create<TuneState>()((set) => ({
  setup: initialSetup(),
  patch: (p) => set((s) => ({ setup: { ...s.setup, ...p } })),
}));

/** The search after one of its events. */
export function applyTuneEvent(r: TuneRun, e: WireTuneEvent): TuneRun {
  switch (e.type) {
    case 'tune-phase':
      return { ...r, status: 'running', phase: { phase: e.phase, detail: e.detail } };
    case 'tune-plan':
      return { ...r, rungs: e.rungs, trials: e.trials, iterations: e.iterations };
    case 'tune-rung':
      return r;
    case 'tune-trial':
      return { ...r, scores: [...r.scores, { trial: e.trial, rung: e.rung, point: e.point, score: e.score, ...(e.error ? { error: e.error } : {}) }] };
    case 'tune-done':
      return { ...r, status: 'done', result: e.result, phase: undefined };
    case 'tune-cancelled':
      return { ...r, status: 'cancelled', phase: undefined };
    case 'tune-error':
      return { ...r, status: 'error', error: e.message, phase: undefined };
  }
}

/** Evaluations the plan runs (every trial of every rung). */
export const plannedEvaluations = (r: Pick<TuneRun, 'rungs'>): number => r.rungs.reduce((n, g) => n + g.trials, 0);

/** Whether the search is still going. */
export const isLive = (r: TuneRun | undefined): boolean => r?.status === 'starting' || r?.status === 'running';
