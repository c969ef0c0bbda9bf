/**
 * The default image validate-solver simulates its task on: the bundled astronaut, converted to
 * the channel count the task's operator takes. RGB by default; a task that refuses three channels
 * but takes one (the CT and MRI plugins need C = 1) gets its luma, written as an .npy the graph's
 * ImageInput reads, since the analytic priors do not fix the image's channels as a learned one does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../io/npy';
import { loadImage, toChannels } from '../io/prepare';
import { operatorSpec } from '../operators/registry';

/** The bundled sample validate-solver uses when no image is given. */
export const DEFAULT_IMAGE = 'sample:astronaut';

/** An image source for the task, what was done to it (for the report's notes), and how to remove what was written. */
export interface TaskImage {
  source: string;
  note?: string;
  release(): void;
}

/** The channels `task` takes at side `size`: 3 unless it refuses three and accepts one. */
export function taskChannels(task: string, size: number): 1 | 3 {
  const spec = operatorSpec(task);
  return spec.checkShape?.([3, size, size]) && !spec.checkShape([1, size, size]) ? 1 : 3;
}

/** {@link DEFAULT_IMAGE} with the channels `task` takes, at `size`×`size`. */
export async function defaultTaskImage(task: string, size: number): Promise<TaskImage> {
  if (taskChannels(task, size) === 3) return { source: DEFAULT_IMAGE, release: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'lagrange-validate-'));
  const file = join(dir, 'astronaut-gray.npy');
  writeNpy(file, toChannels(await loadImage(DEFAULT_IMAGE, size), 1, DEFAULT_IMAGE));
  return {
    source: file,
    note: `task ${task} takes single-channel images: ${DEFAULT_IMAGE} was converted to gray (luma) at ${size}×${size}`,
    release: () => rmSync(dir, { recursive: true, force: true }),
  };
}
