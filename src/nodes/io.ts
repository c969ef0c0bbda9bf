/** Input and output nodes: where images and measurements enter a graph and results leave it. */
import { z } from 'zod';
import { defineNode } from './types';

// Maxima (image side, every) are protocol/limits.ts's LIMITS written out; tests/limits.test.ts checks them.

export const imageInput = defineNode({
  kind: 'ImageInput',
  title: 'Image',
  category: 'input',
  doc: 'Loads a ground-truth image x ∈ [−1, 1]^{1×C×H×W} from a PNG (v = 2p/255 − 1) or .npy file, or a bundled sample by name, centre-cropped and resized to size×size when size is set.',
  inputs: [],
  outputs: [{ name: 'image', type: 'image', doc: 'x, 1×C×H×W in [−1, 1]' }],
  params: z.object({
    source: z.string().min(1).default('sample:astronaut'),
    size: z.number().int().min(8).max(4096).optional().meta({ unit: 'px', description: 'centre-crop and resize to size×size; unset keeps the image (or follows the prior)' }),
  }),
  role: 'value',
});

export const measurementInput = defineNode({
  kind: 'MeasurementInput',
  title: 'Measurement',
  category: 'input',
  doc: 'Loads a measurement bundle written by `lagrange simulate` (task.json, y.npy, mask/kernel, x.npy when known): y, its operator A rebuilt from (task, params, seed) and checked against the stored artifacts, σ_y, and the ground truth if present.',
  inputs: [],
  outputs: [{ name: 'measurement', type: 'measurement', doc: 'y with A, σ_y and (optionally) x' }],
  params: z.object({ path: z.string().min(1) }),
  role: 'value',
});

export const simulate = defineNode({
  kind: 'Simulate',
  title: 'Simulate',
  category: 'input',
  doc: 'y = A(x) + n with n ~ N(0, σ_y² I) in A’s output units (σ_y = 0.05 in [−1, 1] units in the papers, i.e. 0.025 for [0, 1] images), drawn from the stream `noise` of the seed; the operator instance comes from the same seed.',
  inputs: [
    { name: 'operator', type: 'operator', doc: 'A' },
    { name: 'image', type: 'image', doc: 'ground truth x' },
  ],
  outputs: [{ name: 'measurement', type: 'measurement', doc: 'y with A, σ_y and x' }],
  params: z.object({
    sigma: z.number().min(0).default(0.05).meta({ unit: 'image units, x ∈ [−1, 1]', description: 'noise std σ_y in A’s output units' }),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .optional()
      .meta({ description: 'operator instance and noise; unset uses the run seed' }),
  }),
  role: 'value',
});

export const preview = defineNode({
  kind: 'Preview',
  title: 'Preview',
  category: 'output',
  doc: 'Shows the image on its input while the solver runs (throttled, off the hot path); every `every` iterations it is also added to the preview strip of the run. range "signal" shows [−1, 1] as black…white; "auto" stretches the image’s own min…max, for small quantities such as the dual u.',
  inputs: [{ name: 'image', type: 'image', doc: 'any image port' }],
  outputs: [],
  params: z.object({
    label: z.string().default(''),
    every: z.number().int().min(1).max(100_000).default(50).meta({ unit: 'iterations' }),
    /** How values map to grey levels: the signal range [−1, 1], or the image's own min…max (small quantities such as the dual u). */
    range: z.enum(['signal', 'auto']).default('signal'),
  }),
  role: 'sink',
});

export const output = defineNode({
  kind: 'Output',
  title: 'Output',
  category: 'output',
  doc: 'Marks the solver’s result x̂: its value after the last iteration is written as result.npy/result.png and scored by the run report.',
  inputs: [{ name: 'image', type: 'image', doc: 'x̂' }],
  outputs: [],
  params: z.object({ name: z.string().default('result') }),
  role: 'sink',
});

/** Which input a Result node passes on (its `returns` parameter). */
export const RESULT_CHOICES = ['x', 'xt'] as const;

export const result = defineNode({
  kind: 'Result',
  title: 'Result',
  category: 'output',
  doc: 'Which iterate the solver returns: x, the clean estimate of the last pass, or x_t, the noisy iterate entering the last pass (at the final level t_{K−1}, σ ≈ 0.01) — what the DDiff and DiffPIR codes return, the last pass’s data step and noising then having no effect on the result. A routing choice resolved when the graph compiles: it costs nothing per iteration and runs the same on every backend.',
  inputs: [
    { name: 'x', type: 'image', doc: 'clean estimate of the last pass' },
    { name: 'xt', type: 'image', doc: 'noisy iterate x_t entering the last pass' },
  ],
  outputs: [{ name: 'image', type: 'image', doc: 'the returned iterate' }],
  params: z.object({
    returns: z.enum(RESULT_CHOICES).default('x').meta({ description: 'x: the last pass’s estimate; xt: the last x_t, as the official DDiff and DiffPIR codes return' }),
  }),
  role: 'route',
  route: (params) => params.returns as string,
});

export const metrics = defineNode({
  kind: 'Metrics',
  title: 'Metrics',
  category: 'output',
  doc: 'Per-iteration data fit ‖y − A(x̂)‖/‖y‖ and ‖y − A(x̂)‖/(σ_y√m), and PSNR/SSIM against the ground truth when the measurement has one, every `every` iterations; with `lpips` (an LPIPS network folder) also LPIPS against the ground truth, in these events and the final report.',
  inputs: [
    { name: 'image', type: 'image', doc: 'x̂' },
    { name: 'measurement', type: 'measurement', doc: 'y, A and maybe x' },
  ],
  outputs: [],
  params: z.object({
    every: z.number().int().min(1).max(100_000).default(10).meta({ unit: 'iterations' }),
    lpips: z.string().min(1).optional().meta({ description: 'LPIPS network folder (model.onnx + model.json from tools/export_lpips.py); unset: no LPIPS' }),
  }),
  role: 'sink',
});
