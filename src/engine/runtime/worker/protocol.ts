/**
 * Messages between a host and an engine worker thread. Jobs are plain data (a graph document and
 * options, or one study row), so a job computes the same result in any thread.
 */
import type { CompileOptions } from '../../compile/compile';
import type { StudySpec, StudyRow } from '../../eval/study';
import type { GraphDocument } from '../../graph/format';
import type { RunEvent, RunReport } from '../events';

/** Work a worker can do. */
export type WorkerJob =
  | { type: 'run'; doc: GraphDocument; options: CompileOptions; throttleMs?: number }
  | { type: 'studyRow'; spec: StudySpec; solver: string; task: string; image: string; seed: number };

/** Host → worker. */
export type ToWorker = { type: 'start'; job: WorkerJob } | { type: 'cancel' };

/** A tensor as it crosses the thread boundary. */
export interface WireTensor {
  shape: number[];
  data: Float32Array;
}

/** Worker → host. */
export type FromWorker =
  | { type: 'event'; event: RunEvent }
  /** Sent after compiling a run, before its first iteration: the measurement being solved. */
  | { type: 'inputs'; task: string; sigma: number; y: WireTensor; truth?: WireTensor }
  | { type: 'done'; status: 'done' | 'cancelled' | 'paused'; report: RunReport; result?: WireTensor }
  | { type: 'row'; row: Omit<StudyRow, 'key'> | null }
  | { type: 'error'; name: string; message: string; nodeId?: string; iteration?: number };
