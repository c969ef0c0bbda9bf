/**
 * Simulated measurements: y = A(x) + noise for a task, an image and a seed, and the measurement
 * bundle on disk (x.npy, y.npy, task.json, the operator's mask/kernel, PNG views) that solvers,
 * the CLI and the studio read back. The operator instance is a function of (task, params, seed,
 * shape); its artifacts are stored anyway and checked on load, so a bundle stays self-describing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writePng } from './io/image';
import { readJsonFile } from './io/json';
import { readNpy, writeNpy } from './io/npy';
import { addNoise, noiseModelSchema } from './operators/noise';
import type { NoiseModel } from './operators/noise';
import { createOperator, operatorOrigin } from './operators/registry';
import { pluginReport } from './plugin/load';
import type { ForwardModel } from './operators/types';
import { createRng } from './tensor/rng';
import type { Tensor } from './tensor/tensor';
import { sameShape, shapeStr } from './tensor/tensor';
import { versions } from './version';

/** The default measurement noise of the papers: Gaussian, σ_y = 0.05 in [−1, 1] units. */
export const DEFAULT_NOISE: NoiseModel = { kind: 'gaussian', sigma: 0.05 };

/** What {@link simulate} needs. */
export interface SimulateOptions {
  /** Operator id from the registry (`sr4`, `inpaint-box`, …). */
  task: string;
  /** Ground truth, 1×C×H×W in [−1, 1]. */
  image: Tensor;
  noise?: NoiseModel;
  /** Seeds the operator instance (stream `operator/<task>`) and the noise (stream `noise`). */
  seed?: number;
  /** Overrides of the operator's size-rescaled default parameters. */
  params?: Record<string, unknown>;
}

/** A measurement: the operator instance, y, and the ground truth when known. */
export interface Measurement {
  record: MeasurementRecord;
  op: ForwardModel;
  y: Tensor;
  x?: Tensor;
}

const recordSchema = z.object({
  format: z.literal('lagrange-measurement'),
  version: z.literal(1),
  task: z.string(),
  params: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  noise: noiseModelSchema,
  /** σ_y expressed for [0, 1] images (σ_y/2), shown because the DPS code and paper differ. */
  sigma01: z.number().nullable(),
  shapes: z.object({ x: z.array(z.number().int()), y: z.array(z.number().int()) }),
  files: z.object({ x: z.string().nullable(), y: z.string(), artifacts: z.record(z.string(), z.string()) }),
  versions: z.record(z.string(), z.string()),
  /** The plugin that registers the task (absent for built-in tasks), so reading the bundle without it says what to install. */
  plugin: z.object({ name: z.string(), version: z.string() }).optional(),
});

/** The `task.json` of a measurement bundle. */
export type MeasurementRecord = z.infer<typeof recordSchema>;

/** `{ plugin: { name, version } }` for a task a plugin registers, else nothing. */
function pluginOf(task: string): Pick<MeasurementRecord, 'plugin'> {
  const origin = operatorOrigin(task);
  if (!origin || origin === 'builtin') return {};
  return { plugin: { name: origin, version: pluginReport().find((p) => p.name === origin)?.version ?? 'unknown' } };
}

/** Simulates y = A(x) + n for `opts.task` on `opts.image`. */
export function simulate(opts: SimulateOptions): Measurement {
  const { task, image } = opts;
  if (image.shape.length !== 4 || image.shape[0] !== 1) {
    throw new RangeError(`simulate: the image must be 1×C×H×W, got ${shapeStr(image.shape)}`);
  }
  const seed = opts.seed ?? 0;
  const noise = opts.noise ?? DEFAULT_NOISE;
  const op = createOperator(task, { shape: image.shape.slice(1), seed, ...(opts.params ? { params: opts.params } : {}) });
  const y = addNoise(op.apply(image), noise, createRng(seed, 'noise'));
  const artifacts = Object.fromEntries(Object.keys(op.artifacts).map((k) => [k, `${k}.npy`]));
  const record: MeasurementRecord = {
    format: 'lagrange-measurement',
    version: 1,
    task,
    params: { ...op.params },
    seed,
    noise,
    sigma01: noise.kind === 'gaussian' ? noise.sigma / 2 : null,
    shapes: { x: [...image.shape], y: [...y.shape] },
    files: { x: 'x.npy', y: 'y.npy', artifacts },
    versions: versions(),
    ...pluginOf(task),
  };
  return { record, op, y, x: image };
}

/** Writes a measurement bundle into `dir` (created if needed). Returns the files written. */
export function writeMeasurement(dir: string, m: Measurement): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, write: (path: string) => void): void => {
    write(join(dir, name));
    written.push(name);
  };
  if (m.x) {
    put('x.npy', (p) => writeNpy(p, m.x!));
    put('x.png', (p) => writePng(p, m.x!));
  }
  put('y.npy', (p) => writeNpy(p, m.y));
  put('y.png', (p) => writePng(p, m.op.view(m.y)));
  for (const [name, t] of Object.entries(m.op.artifacts)) put(`${name}.npy`, (p) => writeNpy(p, t));
  const record = { ...m.record, files: { ...m.record.files, x: m.x ? 'x.npy' : null } };
  put('task.json', (p) => writeFileSync(p, JSON.stringify(record, null, 2) + '\n'));
  return written;
}

/** Raised for unreadable or inconsistent measurement bundles; the message names the file. */
export class MeasurementError extends Error {
  override name = 'MeasurementError';
}

/** Reads a bundle written by {@link writeMeasurement}, rebuilding and checking its operator. */
export function readMeasurement(dir: string): Measurement {
  const record = readJsonFile(join(dir, 'task.json'), recordSchema, (m) => new MeasurementError(m), "a measurement directory needs task.json (made by 'lagrange simulate')");
  const y = readNpy(join(dir, record.files.y));
  const x = record.files.x ? readNpy(join(dir, record.files.x)) : undefined;
  if (record.plugin && !operatorOrigin(record.task)) {
    const { name, version } = record.plugin;
    throw new MeasurementError(
      `${join(dir, 'task.json')}: task '${record.task}' comes from plugin '${name}' ${version}, which is not loaded; put it in ~/.lagrange/plugins or pass --plugin <dir>`,
    );
  }
  const op = createOperator(record.task, { shape: record.shapes.x.slice(1), seed: record.seed, params: record.params });
  if (!sameShape(y.shape, [1, ...op.outShape])) {
    throw new MeasurementError(`${join(dir, record.files.y)}: expected shape 1×${shapeStr(op.outShape)} for task ${record.task}, got ${shapeStr(y.shape)}`);
  }
  for (const [name, file] of Object.entries(record.files.artifacts)) {
    const stored = readNpy(join(dir, file));
    const made = op.artifacts[name];
    const same = made && sameShape(stored.shape, made.shape) && stored.data.every((v, i) => v === made.data[i]);
    if (!same) {
      throw new MeasurementError(`${join(dir, file)}: differs from the ${name} that task ${record.task} with seed ${record.seed} produces (edited, or made by another version)`);
    }
  }
  return { record, op, y, ...(x ? { x } : {}) };
}
