/**
 * `lagrange eval` rows for latent-ddiff: the latent preset runs the tasks whose operator takes the
 * images its autoencoder decodes, takes a latent model as `--prior` but not a pixel one (and pixel
 * presets no latent one), and its row and the measurement's are scored on the same 1×32×32 truth.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { studyRow } from '../src/engine/eval/study';
import type { StudySpec } from '../src/engine/eval/study';
import { solverRunsTask } from '../src/engine/eval/tasksFor';
import { psnr } from '../src/engine/metrics/psnr';
import { loadImage } from '../src/engine/io/prepare';
import { resolveModelDir } from '../src/engine/priors/catalog';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { simulate } from '../src/engine/simulate';

afterAll(releaseLatentNets);
const IMAGE = 'model:fmnist-latent-8/heldout/04.png';

describe('eval rows for latent-ddiff', () => {
  it('cross the latent preset with the tasks and priors it can run', () => {
    expect(solverRunsTask('latent-ddiff', 'inpaint-box')).toBe(true);
    expect(solverRunsTask('latent-ddiff', 'deblur-gauss', 'fmnist-latent-8')).toBe(true);
    expect(solverRunsTask('latent-ddiff', 'inpaint-box', 'fmnist-32')).toBe(false); // a pixel prior
    expect(solverRunsTask('ddiff', 'inpaint-box', 'fmnist-latent-8')).toBe(false); // a latent prior in a pixel graph
    expect(solverRunsTask('measurement', 'inpaint-box', 'fmnist-latent-8')).toBe(true);
  });

  it('score the latent row and the measurement row on the autoencoder’s image shape', async () => {
    const spec: StudySpec = { solvers: ['latent-ddiff', 'measurement'], tasks: ['inpaint-box'], images: [IMAGE], seeds: [4], sigma: 0.05, iterations: 3, prior: 'fmnist-latent-8' };
    const row = (await studyRow(spec, 'latent-ddiff', 'inpaint-box', IMAGE, 4))!;
    expect(row).toMatchObject({ solver: 'latent-ddiff', task: 'inpaint-box', nfe: 3, samples: 1 });
    expect(row.psnr).toHaveLength(1);
    const y = (await studyRow(spec, 'measurement', 'inpaint-box', IMAGE, 4))!;
    // The measurement row is y of the same simulation, on the luma image the latent row's truth is.
    const truth = await loadImage(join(resolveModelDir('fmnist-latent-8'), 'heldout/04.png'), 32, 1);
    const m = simulate({ task: 'inpaint-box', image: truth, seed: 4, noise: { kind: 'gaussian', sigma: 0.05 } });
    expect(y.psnr[0]).toBeCloseTo(psnr(m.y, truth)[0]!, 6);
  }, 30_000);
});
