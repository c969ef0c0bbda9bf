/**
 * Job ids: equal exactly when a row's numbers are equal by construction, so a queue never runs a
 * row twice and never answers one row with another's result.
 */
import { describe, expect, it } from 'vitest';
import type { StudySpec } from '../src/engine/eval/study';
import { rowKey } from '../src/engine/eval/study';
import { jobId, studyJobs } from '../src/engine/jobs/job';

const spec: StudySpec = { solvers: ['diffpir', 'tikhonov'], tasks: ['inpaint-box'], images: ['a.png'], seeds: [0], sigma: 0.05, prior: 'gaussian', size: 16, iterations: 20 };
const id = (s: StudySpec, solver = 'diffpir'): string => jobId(s, solver, rowKey(solver, 'inpaint-box', 'a.png', 0, s));

describe('jobId', () => {
  it('is the same for the same row in another study (other solvers, tasks, folder, provider)', () => {
    const other = { ...spec, solvers: ['diffpir'], tasks: ['inpaint-box', 'sr4'], root: '/elsewhere', provider: 'cpu' };
    expect(studyJobs(other)[0]!.id).toBe(studyJobs(spec)[0]!.id);
    expect(id(spec)).toMatch(/^row-[0-9a-f]{32}$/);
    expect(id({ ...spec, set: { x: { a: 1, b: 2 } } })).toBe(id({ ...spec, set: { x: { b: 2, a: 1 } } }));
  });

  it('changes with everything that changes the numbers', () => {
    const changed: Partial<StudySpec>[] = [{ sigma: 0.1 }, { iterations: 30 }, { prior: 'gmm' }, { size: 32 }, { samples: 2 }, { lpips: 'net' }, { set: { x: { lambda: 5 } } }];
    const ids = changed.map((c) => id({ ...spec, ...c }));
    expect(new Set([id(spec), ...ids]).size).toBe(changed.length + 1);
    expect(jobId(spec, 'diffpir', rowKey('diffpir', 'inpaint-box', 'a.png', 0, spec), 'another-version')).not.toBe(id(spec));
  });

  it('ignores, for the reference solvers, what they do not use (per-run parameters, samples)', () => {
    expect(id({ ...spec, set: { x: { lambda: 5 } }, samples: 4 }, 'tikhonov')).toBe(id(spec, 'tikhonov'));
    expect(id({ ...spec, prior: 'fmnist-32' }, 'tikhonov')).not.toBe(id(spec, 'tikhonov')); // the prior fixes the image size
  });
});
