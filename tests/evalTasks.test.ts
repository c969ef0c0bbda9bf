/**
 * `lagrange eval --tasks all` with plugins loaded: a plugin's task runs only on the solvers that
 * can run it, a plugin's preset only on the tasks it was made for, and nothing single-channel is
 * crossed with an RGB prior; the built-in study and explicit task lists are as before.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvalArgs } from '../src/cli/eval';
import { studySpecs } from '../src/cli/eval';
import type { StudySpec } from '../src/engine/eval/study';
import { loadPlugins } from '../src/engine/plugin/load';

const ROOT = new URL('..', import.meta.url).pathname;
const RGB_PRIOR = resolve(ROOT, 'tests/fixtures/models/gaussian-eps'); // 3×32×32
const BUILTIN = ['sr4', 'inpaint-box', 'inpaint-random', 'deblur-gauss', 'deblur-motion', 'phase-retrieval', 'deblur-nonlinear', 'hdr'];

const args = (over: Partial<EvalArgs>): EvalArgs => ({
  solvers: 'ddiff',
  tasks: 'all',
  images: ['model:fmnist-32/heldout'],
  count: '1',
  seeds: '0',
  sigma: '0.05',
  out: resolve(ROOT, 'runs/test-eval-tasks'),
  ...over,
});

/** solver → the tasks it runs, over every study. */
const pairs = (specs: StudySpec[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const s of specs) for (const solver of s.solvers) (out[solver] ??= []).push(...s.tasks);
  return out;
};

beforeAll(async () => {
  const report = await loadPlugins({ ...process.env, LAGRANGE_PLUGINS: [resolve(ROOT, 'plugins/ct'), resolve(ROOT, 'plugins/mri')].join(':') });
  expect(report.filter((p) => p.status === 'loaded').map((p) => p.name)).toEqual(expect.arrayContaining(['ct', 'mri']));
});

describe('eval --tasks all with plugin tasks', () => {
  it('runs plugin tasks on the solvers that can run them and plugin presets only on their own task', () => {
    const got = pairs(studySpecs(args({ solvers: 'ddiff,diffpir,ct-ddiff,mri-dps,tikhonov,measurement' })));
    expect(got.ddiff).toEqual([...BUILTIN, 'ct', 'mri']);
    // diffpir keeps the built-in tasks it runs with a linearized step (as before), and the plugin tasks it solves by CG.
    expect(got.diffpir).toEqual([...BUILTIN, 'ct', 'mri']);
    expect(got['ct-ddiff']).toEqual(['ct']);
    expect(got['mri-dps']).toEqual(['mri']);
    expect(got.tikhonov).toEqual([...BUILTIN, 'ct', 'mri']);
    expect(got.measurement).toEqual([...BUILTIN, 'ct', 'mri']);
  });

  it('keeps single-channel tasks away from an RGB prior, and drops a solver that runs nothing', () => {
    const got = pairs(studySpecs(args({ solvers: 'ddiff,ct-ddiff,tikhonov', prior: RGB_PRIOR })));
    expect(got.ddiff).toEqual(BUILTIN);
    expect(got.tikhonov).toEqual(BUILTIN);
    expect(got['ct-ddiff']).toBeUndefined();
    expect(() => studySpecs(args({ solvers: 'ct-ddiff,mri-ddiff', prior: RGB_PRIOR }))).toThrow(
      /--tasks all: none of the solvers \(ct-ddiff, mri-ddiff\) can run any of the tasks \(sr4, .*ct, mri\) with prior .*gaussian-eps/,
    );
  });

  it('an explicit task list is crossed as given (the rows say what cannot run)', () => {
    const specs = studySpecs(args({ solvers: 'ddiff,ct-ddiff', tasks: 'ct,inpaint-box' }));
    expect(specs).toHaveLength(1);
    expect(specs[0]!.solvers).toEqual(['ddiff', 'ct-ddiff']);
    expect(specs[0]!.tasks).toEqual(['ct', 'inpaint-box']);
  });

  it('one study per σ_y still, each split by what its solvers run', () => {
    const specs = studySpecs(args({ solvers: 'ddiff,ct-ddiff', sigma: '0.05,0.1' }));
    expect(specs.map((s) => [s.sigma, s.solvers.join(), s.tasks.length])).toEqual([
      [0.05, 'ddiff', 10],
      [0.05, 'ct-ddiff', 1],
      [0.1, 'ddiff', 10],
      [0.1, 'ct-ddiff', 1],
    ]);
  });
});
