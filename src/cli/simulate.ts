/**
 * `lagrange simulate`: a measurement bundle from an image, a task, σ_y and a seed. With `--prior`
 * the image is first fitted to that prior (its channels and size), as `run --image` does, so the
 * bundle runs on it.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readOperatorCard } from '../engine/operators/onnx/card';
import { releaseOperator } from '../engine/operators/onnx/spec';
import type { NoiseModel } from '../engine/operators/noise';
import { loadImage, sampleNames } from '../engine/io/prepare';
import { resolveModelDir } from '../engine/priors/catalog';
import { readModelCard } from '../engine/priors/modelCard';
import { simulate, writeMeasurement } from '../engine/simulate';
import { shapeStr } from '../engine/tensor/tensor';
import { CliError, intOption, numberOption } from './errors';

/** Options as commander hands them over (strings). */
export interface SimulateArgs {
  /** Task id; or give `operator`. */
  task?: string;
  /** An ONNX operator folder (task `onnx-operator` on it); the image is fitted to its card unless --prior says otherwise. */
  operator?: string;
  image: string;
  sigma: string;
  noise: string;
  rate?: string;
  seed: string;
  size?: string;
  param?: string[];
  /** A learned prior (bundled name or model folder) to fit the image to; gaussian/gmm fit any image. */
  prior?: string;
  out: string;
}

/** The image shape C×H×W a prior needs, or undefined for the analytic priors (any shape). */
export function priorFit(prior: string | undefined): { name: string; channels: number; size: number } | undefined {
  if (prior === undefined || prior === 'gaussian' || prior === 'gmm') return undefined;
  const { image } = readModelCard(resolveModelDir(prior));
  // Images are centre-cropped to a square (as `run --image` does), so a prior must be square.
  if (image.height !== image.width) throw new CliError(`--prior ${prior}: works on ${image.height}×${image.width} images; only square priors can be fitted`);
  return { name: prior, channels: image.channels, size: image.height };
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

/** The task and its parameters from --task/--param or --operator. */
function taskOf(args: SimulateArgs): { task: string; params: Record<string, unknown> } {
  const params = parseParams(args.param ?? []);
  if (args.operator === undefined) {
    if (args.task === undefined) throw new CliError('give --task <id> (see lagrange tasks) or --operator <folder> (an ONNX operator folder)');
    return { task: args.task, params };
  }
  if (args.task !== undefined) throw new CliError('give either --task or --operator, not both');
  if (!existsSync(args.operator)) throw new CliError(`--operator ${args.operator}: no such folder`);
  return { task: 'onnx-operator', params: { ...params, path: resolve(args.operator) } };
}

/** The image shape an operator folder's card takes, for fitting the image (square cards only). */
function operatorFit(dir: string): { name: string; channels: number; size: number } {
  const [, c, h, w] = readOperatorCard(dir).input.shape;
  if (h !== w) throw new CliError(`--operator ${dir}: takes ${c}×${h}×${w} images; give a .npy image of that shape (only square cards can be fitted)`);
  return { name: `operator ${dir}`, channels: c, size: h };
}

/** Runs the command; returns the summary lines to print. */
export async function runSimulate(args: SimulateArgs): Promise<string[]> {
  const { task, params } = taskOf(args);
  const noise = noiseModel(args);
  const seed = intOption('--seed', args.seed, 0);
  const size = args.size === undefined ? undefined : intOption('--size', args.size, 8);
  const fit = priorFit(args.prior) ?? (args.operator !== undefined && !/\.npy$/i.test(args.image) ? operatorFit(args.operator) : undefined);
  if (fit && size !== undefined && size !== fit.size) {
    throw new CliError(
      `--size ${size}: prior ${fit.name} works on ${fit.channels}×${fit.size}×${fit.size} images; leave --size out (it follows the prior) or give --size ${fit.size}`,
    );
  }
  const named = /^(sample|model):/.test(args.image);
  if (!named && !existsSync(args.image)) throw missingImage(args.image);
  // The same preparation as `run --image` on a learned prior: centre crop, resize, RGB → luma.
  const image = await loadImage(args.image, fit?.size ?? size, fit?.channels);
  const m = simulate({ task, image, noise, seed, params });
  let files: string[];
  try {
    files = writeMeasurement(args.out, m);
  } finally {
    releaseOperator(m.op);
  }
  const sigma = noise.kind === 'gaussian' ? `σ_y ${noise.sigma} (${noise.sigma / 2} in [0,1] units)` : `Poisson, rate ${noise.rate}`;
  return [
    ...(fit ? [`fitted ${args.image} to ${fit.name.startsWith('operator ') ? fit.name : `prior ${fit.name}`}: ${shapeStr(image.shape)}`] : []),
    `${task}: x ${shapeStr(image.shape)} → y ${shapeStr(m.y.shape)}, ${sigma}, seed ${seed}`,
    `wrote ${args.out}: ${files.join(' ')}`,
  ];
}
