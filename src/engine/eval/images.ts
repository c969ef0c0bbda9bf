/**
 * Pictures of a study row for the report: the estimate (sample 0), the ground truth and the
 * measurement shown in its own space, as PNGs under `<study>/images/`, named by what they show so
 * rows of different solvers share the truth and measurement files.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writePng } from '../io/image';
import type { Tensor } from '../tensor/tensor';

/** Paths of a row's pictures, relative to the study folder. */
export interface RowImages {
  result: string;
  truth: string;
  measurement: string;
}

const safe = (s: string): string => s.replace(/[^\w.-]+/g, '_');

/** Writes the three pictures under `<root>/images` and returns their relative paths. */
export function saveRowImages(
  root: string,
  row: { solver: string; task: string; image: string; seed: number; sigmaY: number },
  x: Tensor,
  truth: Tensor,
  measurementView: Tensor,
): RowImages {
  const stem = `${safe(basename(row.image).replace(/\.\w+$/, ''))}-s${row.seed}-y${row.sigmaY}`;
  const paths: RowImages = {
    result: join('images', safe(row.solver), row.task, `${stem}.png`),
    truth: join('images', 'truth', `${stem}.png`),
    measurement: join('images', 'measurement', row.task, `${stem}.png`),
  };
  for (const [rel, t] of [
    [paths.result, x],
    [paths.truth, truth],
    [paths.measurement, measurementView],
  ] as const) {
    mkdirSync(join(root, dirname(rel)), { recursive: true });
    writePng(join(root, rel), t);
  }
  return paths;
}
