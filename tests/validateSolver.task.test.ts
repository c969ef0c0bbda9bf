/**
 * `lagrange validate-solver --task <plugin task>` simulates on an image with the channels the
 * task takes: CT and MRI need C = 1, so the default astronaut is converted to gray (and the report
 * says so), where it used to be refused as RGB; built-in tasks keep the RGB astronaut.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskChannels } from '../src/engine/oracle/taskImage';
import { loadPlugins } from '../src/engine/plugin/load';
import { cli } from './helpers/cli';

const ROOT = new URL('..', import.meta.url).pathname;

beforeAll(async () => {
  await loadPlugins({ ...process.env, LAGRANGE_PLUGINS: [resolve(ROOT, 'plugins/ct'), resolve(ROOT, 'plugins/mri')].join(':') });
});

describe('validate-solver on a task that takes one channel', () => {
  it('knows the channels each task takes', () => {
    expect(taskChannels('ct', 8)).toBe(1);
    expect(taskChannels('mri', 8)).toBe(1);
    expect(taskChannels('inpaint-random', 8)).toBe(3);
    expect(taskChannels('sr4', 8)).toBe(3);
  });

  it.each([
    ['ct', 'plugins/ct', 'ct-diffpir'],
    ['mri', 'plugins/mri', 'mri-diffpir'],
  ])(
    '--task %s simulates on the gray astronaut and matches the exact posterior',
    async (task, plugin, preset) => {
      const r = await cli(
        '--plugin',
        resolve(ROOT, plugin),
        'validate-solver',
        preset,
        '--task',
        task,
        '--size',
        '8',
        '--samples',
        '8',
        '--iterations',
        '30',
        '--set',
        'z.clip=false',
        '--json',
      );
      expect(r.code, r.err.join('\n')).toBe(0);
      const v = JSON.parse(r.out.at(-1)!) as { task: string; notes: string[]; meanErrorZ: number; spreadRatio: number };
      expect(v.task).toBe(task);
      expect(v.notes[0]).toBe(`task ${task} takes single-channel images: sample:astronaut was converted to gray (luma) at 8×8`);
      expect(v.meanErrorZ).toBeLessThan(0.8);
      expect(v.spreadRatio).toBeGreaterThan(0.3);
    },
    120_000,
  );

  it('a built-in task keeps the RGB astronaut, with no note', async () => {
    const r = await cli('validate-solver', 'diffpir', '--task', 'inpaint-random', '--size', '8', '--samples', '8', '--iterations', '10', '--set', 'z.clip=false', '--json');
    expect(r.code, r.err.join('\n')).toBe(0);
    const v = JSON.parse(r.out.at(-1)!) as { notes: string[] };
    expect(v.notes.join('\n')).not.toMatch(/converted to gray/);
  }, 120_000);
});
