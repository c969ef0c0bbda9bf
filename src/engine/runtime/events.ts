/**
 * Run events — the same shapes over IPC, WebSocket and the CLI's `--json` lines — and the run
 * report that records what produced a result.
 */

/** Per-sample quality of an estimate. */
export interface QualityMetrics {
  /** ‖y − A(x̂)‖/‖y‖ per sample. */
  residual: number[];
  /** ‖y − A(x̂)‖/(σ_y√m) per sample (≈ 1 at the noise level). */
  normalisedResidual: number[];
  /** Against the ground truth, when known. */
  psnr?: number[];
  ssim?: number[];
}

/** Everything needed to trace a result back to its inputs. */
export interface RunReport {
  graph: string;
  hash: string;
  seed: number;
  samples: number;
  iterations: number;
  /** Score-model forward evaluations (a batch of N counts once). */
  nfe: number;
  /** Denoiser VJP evaluations (DPS). */
  vjpCalls: number;
  wallMs: number;
  /** Time inside score-model calls. */
  scoreModelMs: number;
  /** Everything else: wall − score model. */
  engineMs: number;
  secondsPerNfe: number;
  provider: string;
  versions: Record<string, string>;
  warnings: string[];
  metrics?: QualityMetrics;
}

export type RunEvent =
  | { type: 'progress'; iteration: number; of: number; nfe: number; elapsedMs: number }
  | { type: 'preview'; nodeId: string; label: string; iteration: number; width: number; height: number; rgba: Uint8ClampedArray }
  | ({ type: 'metrics'; iteration: number } & QualityMetrics)
  | { type: 'done'; report: RunReport }
  /** Stopped by the AbortSignal before `iteration`; the report covers the work done. */
  | { type: 'cancelled'; iteration: number; report: RunReport }
  | { type: 'error'; nodeId?: string; iteration?: number; message: string };
