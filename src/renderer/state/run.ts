/**
 * Run state: the current run's progress, previews, curves and result. Never saved; a new run
 * replaces it. Kept apart from the document so edits and runs do not disturb each other.
 */
import { create } from 'zustand';
import type { Frame, WireReport, WireRunEvent } from '../../protocol/messages';

/** A point of the convergence curves. */
export interface CurvePoint {
  iteration: number;
  residual: number;
  psnr?: number;
  ssim?: number;
}

/** The run store. */
export interface RunState {
  status: 'idle' | 'starting' | 'running' | 'done' | 'cancelled' | 'error';
  runId?: string;
  cancel?: () => Promise<void>;
  progress?: { iteration: number; of: number; nfe: number; elapsedMs: number };
  inputs?: { task: string; sigma: number; truth?: Frame; measurement: Frame };
  /** Latest frame per Preview node id. */
  previews: Record<string, { label: string; iteration: number; frame: Frame }>;
  curve: CurvePoint[];
  result?: Frame;
  report?: WireReport;
  error?: { message: string; nodeId?: string; iteration?: number };
  reset(status: RunState['status']): void;
  apply(e: WireRunEvent): void;
}

export const useRun = create<RunState>()((set) => ({
  status: 'idle',
  previews: {},
  curve: [],
  reset: (status) =>
    set({ status, runId: undefined, cancel: undefined, progress: undefined, inputs: undefined, previews: {}, curve: [], result: undefined, report: undefined, error: undefined }),
  apply: (e) =>
    set((s) => {
      switch (e.type) {
        case 'inputs':
          return { status: 'running', inputs: { task: e.task, sigma: e.sigma, measurement: e.measurement, ...(e.truth ? { truth: e.truth } : {}) } };
        case 'progress':
          return { progress: { iteration: e.iteration, of: e.of, nfe: e.nfe, elapsedMs: e.elapsedMs } };
        case 'preview':
          return { previews: { ...s.previews, [e.nodeId]: { label: e.label, iteration: e.iteration, frame: { width: e.width, height: e.height, rgba: e.rgba } } } };
        case 'metrics':
          return { curve: [...s.curve, { iteration: e.iteration, residual: e.residual[0]!, ...(e.psnr ? { psnr: e.psnr[0]! } : {}), ...(e.ssim ? { ssim: e.ssim[0]! } : {}) }] };
        case 'result':
          return { result: e.frame };
        case 'done':
          return { status: 'done', report: e.report };
        case 'cancelled':
          return { status: 'cancelled', report: e.report };
        case 'error':
          return { status: 'error', error: { message: e.message, ...(e.nodeId ? { nodeId: e.nodeId } : {}), ...(e.iteration !== undefined ? { iteration: e.iteration } : {}) } };
      }
    }),
}));
