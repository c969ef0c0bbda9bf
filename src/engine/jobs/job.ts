/**
 * Study rows as jobs: a job is one (solver, task, image, seed) row of a study, identified by a
 * hash of exactly what determines its numbers, and a {@link JobRunner} computes jobs wherever it
 * runs them (threads of this process, or workers on a Redis queue). Rows are seeded on their own,
 * so a job gives the same row on any runner.
 */
import { createHash } from 'node:crypto';
import { canonical } from '../canonical';
import type { StudyRow, StudySpec } from '../eval/study';
import { REFERENCE_SOLVERS, rowKey } from '../eval/study';
import { LAGRANGE_VERSION } from '../version';

/**
 * The version of a study's jobs: the product version (the engine that computes the numbers) and
 * the layout of a job's data. Part of every job id; a queue holds jobs of one version only.
 */
export const STUDY_VERSION = `${LAGRANGE_VERSION}+jobs1`;

/** One study row to compute. */
export interface StudyJob {
  /** Hash of {@link StudyJob.key}, the spec fields that change the numbers and the version. */
  id: string;
  /** The row's key in results.jsonl ({@link rowKey}). */
  key: string;
  version: string;
  /** The study, without its folder (`root`) or a worker's `provider`: neither is part of the job. */
  spec: StudySpec;
  solver: string;
  task: string;
  image: string;
  seed: number;
}

/** What a runner reports for one job: exactly one call per job, unless the run is stopped first. */
export interface JobCallbacks {
  /** The job ran; `row` is undefined when it has nothing to write (cancelled, or no such row). */
  done(job: StudyJob, row: Omit<StudyRow, 'key'> | undefined): void;
  /** The job failed for good (after its retries); `error` names the job and the cause. */
  failed(job: StudyJob, error: string): void;
}

/** Where jobs run: in-process worker threads, or a queue spread over machines. */
export interface JobRunner {
  /** Runs `jobs`, calling back as each finishes, in any order; resolves when all are reported or `signal` aborts. */
  run(jobs: readonly StudyJob[], on: JobCallbacks, signal?: AbortSignal): Promise<void>;
  /** Releases threads and connections. */
  close(): Promise<void>;
}

/**
 * The spec fields that change a row's numbers beyond its key: σ_y, the iteration budget and the
 * per-run parameters are in the key already (canonical there, and left out for the reference
 * solvers, as is the sample count: those rows draw one estimate).
 */
const identity = (s: StudySpec, solver: string): Partial<StudySpec> => ({
  prior: s.prior,
  size: s.size,
  lpips: s.lpips,
  ...((REFERENCE_SOLVERS as readonly string[]).includes(solver) ? {} : { samples: s.samples ?? 1 }),
});

/**
 * A job's id: `row-` and 32 hex digits of SHA-256 over the version, the row key (solver, task,
 * image, seed, σ_y, iterations, per-run parameters) and the spec fields that change the row's
 * numbers besides (prior, size, samples, LPIPS network). The study folder, the solver list and the other rows do not enter it, so
 * the same row of two studies is one job.
 */
export function jobId(spec: StudySpec, solver: string, key: string, version = STUDY_VERSION): string {
  const hash = createHash('sha256')
    .update(canonical({ version, key, spec: identity(spec, solver) }))
    .digest('hex');
  return `row-${hash.slice(0, 32)}`;
}

/** The study's jobs in plan order (solver-major, then task, image, seed). */
export function studyJobs(study: StudySpec): StudyJob[] {
  const { root: _root, provider: _provider, ...spec } = study;
  const jobs: StudyJob[] = [];
  for (const solver of spec.solvers)
    for (const task of spec.tasks)
      for (const image of spec.images)
        for (const seed of spec.seeds) {
          const key = rowKey(solver, task, image, seed, spec);
          jobs.push({ id: jobId(spec, solver, key), key, version: STUDY_VERSION, spec, solver, task, image, seed });
        }
  return jobs;
}

/** How messages name a job: its id and its row. */
export const describeJob = (j: Pick<StudyJob, 'id' | 'solver' | 'task' | 'image' | 'seed'>): string => `job ${j.id} (${j.solver} on ${j.task}, ${j.image}, seed ${j.seed})`;
