/**
 * Run events — the same shapes over IPC, WebSocket and the CLI's `--json` lines — and the run
 * report that records what produced a result.
 */
import type { WireMetrics, WireReport } from '../../protocol/messages';

/** Per-sample quality of an estimate; the protocol's shape, so hosts send it unchanged. */
export type QualityMetrics = WireMetrics;

/** Everything needed to trace a result back to its inputs; the protocol's shape. */
export type RunReport = WireReport;

/** Events of one run (previews carry raw RGBA; the protocol's WireRunEvent carries it base64-encoded). */
export type RunEvent =
  | { type: 'progress'; iteration: number; of: number; nfe: number; elapsedMs: number }
  | { type: 'preview'; nodeId: string; label: string; iteration: number; width: number; height: number; rgba: Uint8ClampedArray }
  | ({ type: 'metrics'; iteration: number } & QualityMetrics)
  | { type: 'done'; report: RunReport }
  /** Stopped by the AbortSignal before `iteration`; the report covers the work done. */
  | { type: 'cancelled'; iteration: number; report: RunReport }
  | { type: 'error'; nodeId?: string; iteration?: number; message: string };
