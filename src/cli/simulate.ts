/** `lagrange simulate`: a measurement bundle from an image file, a task, σ_y and a seed. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readImageFile } from '../engine/io/image';
import type { NoiseModel } from '../engine/operators/noise';
import { sampleNames, squareResize } from '../engine/io/prepare';
import { simulate, writeMeasurement } from '../engine/simulate';
import { shapeStr } from '../engine/tensor/tensor';
import { CliError, intOption, numberOption } from './errors';

/** Options as commander hands them over (strings). */
export interface SimulateArgs {
  task: string;
  image: string;
  sigma: string;
  noise: string;
  rate?: string;
  seed: string;
  size?: string;
  param?: string[];
  out: string;
}

function missingImage(path: string): CliError {
  const samples = sampleNames();
  const hint = samples.length ? `; bundled samples: ${samples.map((f) => join('resources/samples', `${f}.png`)).join(', ')}` : '';
  return new CliError(`--image ${path}: no such file${hint}`);
}

/** `key=value` pairs to a params object (values parsed as JSON when they parse, else strings). */
export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new CliError(`--param ${p}: expected key=value`);
    const text = p.slice(eq + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a bare word such as `center` stays a string
    }
    out[p.slice(0, eq)] = value;
  }
  return out;
}

function noiseModel(args: SimulateArgs): NoiseModel {
  if (args.noise === 'gaussian') {
    return { kind: 'gaussian', sigma: numberOption('--sigma', args.sigma, (v) => (v < 0 ? 'must be ≥ 0' : undefined)) };
  }
  if (args.noise === 'poisson') {
    if (args.rate === undefined) throw new CliError('--noise poisson needs --rate <photons per unit intensity>');
    return { kind: 'poisson', rate: numberOption('--rate', args.rate, (v) => (v <= 0 ? 'must be > 0' : undefined)) };
  }
  throw new CliError(`--noise must be gaussian or poisson, got '${args.noise}'`);
}

/** Runs the command; returns the summary lines to print. */
export async function runSimulate(args: SimulateArgs): Promise<string[]> {
  const noise = noiseModel(args);
  const seed = intOption('--seed', args.seed, 0);
  const size = args.size === undefined ? undefined : intOption('--size', args.size, 8);
  if (!existsSync(args.image)) throw missingImage(args.image);
  let image = await readImageFile(args.image);
  if (image.shape[0] !== 1) throw new CliError(`--image ${args.image}: expected one image, got a batch of ${image.shape[0]} (${shapeStr(image.shape)})`);
  if (size !== undefined) image = squareResize(image, size);
  const m = simulate({ task: args.task, image, noise, seed, params: parseParams(args.param ?? []) });
  const files = writeMeasurement(args.out, m);
  const sigma = noise.kind === 'gaussian' ? `σ_y ${noise.sigma} (${noise.sigma / 2} in [0,1] units)` : `Poisson, rate ${noise.rate}`;
  return [
    `${args.task}: x ${shapeStr(image.shape)} → y ${shapeStr(m.y.shape)}, ${sigma}, seed ${seed}`,
    `wrote ${args.out}: ${files.join(' ')}`,
  ];
}
