/**
 * `lagrange models list | inspect | check` and `lagrange sample`: what score models are installed,
 * what a model folder declares, whether it runs and agrees with its reference outputs, and what it
 * generates unconditionally.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { writeNpy } from '../engine/io/npy';
import { listModels, resolveModelDir } from '../engine/priors/catalog';
import { checkModel } from '../engine/priors/check';
import type { ModelCheck } from '../engine/priors/check';
import { readModelCard } from '../engine/priors/modelCard';
import { loadOnnxPrior, PROVIDER_ORDER, providerUnavailable } from '../engine/priors/onnxPrior';
import type { ExecutionProvider } from '../engine/priors/onnxPrior';
import { sampleUnconditional } from '../engine/priors/sample';
import type { Tensor } from '../engine/tensor/tensor';
import { CliError, intOption, numberOption } from './errors';

const mb = (file: string): string => {
  try {
    return `${(statSync(file).size / 2 ** 20).toFixed(1)} MB`;
  } catch {
    return 'missing';
  }
};

/** `models list`: one line per model (or JSON). */
export function modelsList(json: boolean): string[] {
  const models = listModels();
  if (json) return [JSON.stringify(models.map(({ card, ...m }) => ({ ...m, ...(card ? { image: card.image, parameterization: card.parameterization, dataset: card.dataset } : {}) })))];
  if (models.length === 0) return ['no models installed'];
  return models.map((m) => {
    if (!m.card) return `${m.name.padEnd(16)} ${m.origin.padEnd(8)} unreadable: ${m.error}`;
    const { channels: c, height: h, width: w } = m.card.image;
    return `${m.name.padEnd(16)} ${m.origin.padEnd(8)} ${`${c}×${h}×${w}`.padEnd(10)} ${m.card.parameterization.padEnd(4)} ${mb(join(m.dir, m.card.files.model)).padStart(8)}  ${m.card.dataset}`;
  });
}

/** `models inspect`: the card, the graph's inputs/outputs and the providers usable here. */
export async function modelsInspect(target: string, json: boolean): Promise<string[]> {
  const dir = resolveModelDir(target);
  const card = readModelCard(dir);
  const model = await loadOnnxPrior(dir, { providers: ['cpu'] });
  const io = model.io;
  await model.release();
  const providers = PROVIDER_ORDER.map((p) => ({ provider: p, unavailable: providerUnavailable(p) }));
  if (json) return [JSON.stringify({ dir, card, io, providers })];
  const t = (x: { name: string; type: string; shape: (number | string)[] }): string => `${x.name}: ${x.type}[${x.shape.join(', ')}]`;
  return [
    `${card.name} (${dir})`,
    `  ${card.description}`,
    `  image ${card.image.channels}×${card.image.height}×${card.image.width} in [−1, 1], predicts ${card.parameterization}, schedule ${card.schedule.kind}${card.schedule.kind === 'linear' ? ` T=${card.schedule.T} β ${card.schedule.betaMin}→${card.schedule.betaMax}` : ''}`,
    `  timestep ${card.timestep.dtype} × ${card.timestep.scale}; file ${card.files.model} (${mb(join(dir, card.files.model))})`,
    `  inputs  ${io.inputs.map(t).join('; ')}`,
    `  outputs ${io.outputs.map(t).join('; ')}`,
    `  dataset ${card.dataset}; licence ${card.license}`,
    `  training ${card.training}`,
    `  providers ${providers.map((p) => (p.unavailable ? `${p.provider} ✗ (${p.unavailable})` : `${p.provider} ✓`)).join(', ')}`,
  ];
}

/** `models check`: runs {@link checkModel}; the report and whether it passed. */
export async function modelsCheck(target: string, provider: string | undefined, json: boolean): Promise<{ ok: boolean; lines: string[] }> {
  if (provider && !(PROVIDER_ORDER as readonly string[]).includes(provider)) throw new CliError(`--provider must be one of ${PROVIDER_ORDER.join(', ')}, got '${provider}'`);
  const dir = resolveModelDir(target);
  const r: ModelCheck = await checkModel(dir, provider ? { providers: [provider as ExecutionProvider] } : {});
  if (json) return { ok: r.ok, lines: [JSON.stringify(r)] };
  const lines = [`${r.card.name}: ${r.ok ? 'ok' : 'FAILED'}`];
  for (const p of r.providers) lines.push(`  ${p.provider.padEnd(7)} ${p.forwardMs !== undefined ? `one forward (batch 2) ${p.forwardMs.toFixed(2)} ms` : `✗ ${p.error}`}`);
  if (r.reference) lines.push(`  reference outputs: max |ONNX − exporter| = ${r.reference.maxAbsError.toExponential(2)} over ${r.reference.count} inputs`);
  else lines.push('  no reference outputs (check/x.npy, t.npy, eps.npy) to compare against');
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  return { ok: r.ok, lines };
}

/** Tiles count×C×H×W images in [−1, 1] into an RGBA grid, `cols` wide, 2 px white gaps. */
export function gridPng(x: Tensor, cols = 8): Buffer {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const rows = Math.ceil(n / cols);
  const W = cols * (w + 2) + 2, H = rows * (h + 2) + 2;
  const png = new PNG({ width: W, height: H });
  png.data.fill(255);
  const to8 = (v: number): number => Math.round(((Math.min(1, Math.max(-1, v)) + 1) / 2) * 255);
  for (let k = 0; k < n; k++) {
    const r0 = 2 + Math.floor(k / cols) * (h + 2), c0 = 2 + (k % cols) * (w + 2);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const o = 4 * ((r0 + i) * W + c0 + j);
        for (let ch = 0; ch < 3; ch++) png.data[o + ch] = to8(x.data[((k * c + (c === 1 ? 0 : ch)) * h + i) * w + j]!);
      }
    }
  }
  return PNG.sync.write(png);
}

/** Options of `lagrange sample`. */
export interface SampleArgs {
  prior: string;
  steps: string;
  count: string;
  seed: string;
  eta: string;
  out: string;
  npy?: string;
}

/** `sample`: unconditional DDIM samples through the engine, as a grid PNG (and .npy). */
export async function runSample(a: SampleArgs): Promise<string[]> {
  const dir = resolveModelDir(a.prior);
  const prior = await loadOnnxPrior(dir);
  const steps = intOption('--steps', a.steps, 1), count = intOption('--count', a.count, 1);
  const t0 = performance.now();
  const x = await sampleUnconditional(prior, { count, steps, seed: intOption('--seed', a.seed, 0), eta: numberOption('--eta', a.eta, (v) => (v < 0 ? 'must be ≥ 0' : undefined)) });
  const ms = performance.now() - t0;
  await prior.release();
  writeFileSync(a.out, gridPng(x));
  if (a.npy) writeNpy(a.npy, x);
  // Pixel statistics: overall mean and the mean over pixels of the across-sample std.
  const d = x.data.length / count;
  let mean = 0, std = 0;
  for (let i = 0; i < d; i++) {
    let s = 0, s2 = 0;
    for (let k = 0; k < count; k++) {
      const v = x.data[k * d + i]!;
      s += v;
      s2 += v * v;
    }
    mean += s / count / d;
    std += Math.sqrt(Math.max(0, s2 / count - (s / count) ** 2)) / d;
  }
  return [`${count} samples from ${prior.id}: ${steps} NFE (batch ${count}) in ${(ms / 1000).toFixed(2)} s on ${prior.provider}; pixel mean ${mean.toFixed(3)}, per-pixel std ${std.toFixed(3)}; wrote ${a.out}${a.npy ? ` and ${a.npy}` : ''}`];
}
