/**
 * Run bookkeeping as pure functions (the store in ./run.ts holds their values): one record per
 * started run that only its own events update, and the queue of runs waiting for the engine. A
 * queued entry holds a snapshot of the document, so later edits do not change what it will run.
 */
import type { Frame, WireGraph, WireReport, WireRunEvent } from '../../protocol/messages';

/** A point of the convergence curves. */
export interface CurvePoint {
  iteration: number;
  residual: number;
  psnr?: number;
  ssim?: number;
}

export type RunStatus = 'starting' | 'running' | 'done' | 'cancelled' | 'error';

/** One run: what it ran and everything its events said. */
export interface RunRecord {
  /** Numbered in the order the runs were asked for (1, 2, …). */
  key: number;
  name: string;
  settings: string;
  status: RunStatus;
  /** The document the run was started with (its errors point into it). */
  doc: WireGraph;
  runId?: string;
  progress?: { iteration: number; of: number; nfe: number; elapsedMs: number };
  inputs?: { task: string; sigma: number; truth?: Frame; measurement: Frame };
  /** Latest frame per Preview node id. */
  previews: Record<string, { label: string; iteration: number; frame: Frame }>;
  curve: CurvePoint[];
  result?: Frame;
  report?: WireReport;
  error?: { message: string; nodeId?: string; iteration?: number };
}

/** A run waiting for the current one to end. */
export interface QueuedRun {
  key: number;
  name: string;
  settings: string;
  doc: WireGraph;
}

/** Whether a run still holds the engine. */
export const isActive = (r: RunRecord | undefined): boolean => r?.status === 'starting' || r?.status === 'running';

/** The run panel's choices in a few words: task (the caller knows it from the catalogue), iterations, seed, backend, profile. */
export function settingsSummary(doc: WireGraph, task?: string): string {
  const schedule = doc.nodes.find((n) => n.kind === 'Schedule');
  const iterations = doc.run.iterations ?? (schedule?.params.iterations as number | undefined);
  return [
    task,
    iterations !== undefined ? `${iterations} it` : undefined,
    `seed ${doc.run.seed}`,
    (doc.run.backend ?? 'js').toUpperCase(),
    doc.run.profile && `profile ${doc.run.profile}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** A fresh record for a run about to start. */
export function newRun(q: QueuedRun): RunRecord {
  return { ...q, status: 'starting', previews: {}, curve: [] };
}

/** The record after one of its run's events. */
export function applyEvent(r: RunRecord, e: WireRunEvent): RunRecord {
  switch (e.type) {
    case 'inputs':
      return { ...r, status: 'running', inputs: { task: e.task, sigma: e.sigma, measurement: e.measurement, ...(e.truth ? { truth: e.truth } : {}) } };
    case 'progress':
      return { ...r, progress: { iteration: e.iteration, of: e.of, nfe: e.nfe, elapsedMs: e.elapsedMs } };
    case 'preview':
      return { ...r, previews: { ...r.previews, [e.nodeId]: { label: e.label, iteration: e.iteration, frame: { width: e.width, height: e.height, rgba: e.rgba } } } };
    case 'metrics':
      return {
        ...r,
        curve: [...r.curve, { iteration: e.iteration, residual: e.residual[0]!, ...(e.psnr ? { psnr: e.psnr[0]! } : {}), ...(e.ssim ? { ssim: e.ssim[0]! } : {}) }],
      };
    case 'result':
      return { ...r, result: e.frame };
    case 'done':
      return { ...r, status: 'done', report: e.report };
    case 'cancelled':
      return { ...r, status: 'cancelled', report: e.report };
    case 'error':
      return {
        ...r,
        status: 'error',
        error: { message: e.message, ...(e.nodeId ? { nodeId: e.nodeId } : {}), ...(e.iteration !== undefined ? { iteration: e.iteration } : {}) },
      };
  }
}

/** `runs` with the record of `key` replaced by `f` of it. */
export const updateRun = (runs: RunRecord[], key: number, f: (r: RunRecord) => RunRecord): RunRecord[] => runs.map((r) => (r.key === key ? f(r) : r));

/** Keeps the newest `limit` records, never dropping an active one. */
export function trimRuns(runs: RunRecord[], limit: number): RunRecord[] {
  let extra = runs.length - limit;
  return runs.filter((r) => !(extra > 0 && !isActive(r) && extra-- > 0));
}

/** The queue without `key`. */
export const removeQueued = (queue: QueuedRun[], key: number): QueuedRun[] => queue.filter((q) => q.key !== key);

/** The queue with `key` one place earlier (unchanged when it is first or absent). */
export function moveUp(queue: QueuedRun[], key: number): QueuedRun[] {
  const i = queue.findIndex((q) => q.key === key);
  if (i <= 0) return queue;
  const out = [...queue];
  [out[i - 1], out[i]] = [out[i]!, out[i - 1]!];
  return out;
}
