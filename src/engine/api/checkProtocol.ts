/** Messages between a host and the check worker (checkWorker.ts): plain data both ways. */
import type { WireIssue } from '../../protocol/messages';
import type { CheckJob } from './graphChecks';

/** Host → worker: one job, and the host's plugin list (`LAGRANGE_PLUGINS`) at the time. */
export interface CheckRequest {
  id: number;
  job: CheckJob;
  plugins: string;
}

/**
 * Worker → host: that the job started (plugins loaded: the time limit counts from here), then its
 * result or the error it raised (a RequestError keeps its issues).
 */
export type CheckReply = { id: number; started: true } | { id: number; ok: true; result: unknown } | { id: number; ok: false; name: string; message: string; issues?: WireIssue[] };
