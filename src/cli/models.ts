/**
 * `lagrange models list | inspect | check`: the score models installed here (bundled and the
 * user's), what one declares and holds, and whether it works on this machine. `--json` prints one
 * JSON line so scripts can parse the output line by line.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '../engine/io/prepare';
import { listModels, resolveModelDir, userModelsDir } from '../engine/priors/catalog';
import type { ModelCheck, ModelInspection } from '../engine/priors/check';
import { checkModel, inspectModel, REFERENCE_TOLERANCE } from '../engine/priors/check';
import type { ModelCard } from '../engine/priors/modelCard';
import type { ExecutionProvider, TensorInfo } from '../engine/priors/onnxPrior';

/** Size of the card's ONNX file in MB (10⁶ bytes, 3 significant digits), or undefined when missing. */
function sizeMB(dir: string, card?: ModelCard): number | undefined {
  const file = join(dir, card?.files.model ?? 'model.onnx');
  return existsSync(file) ? Number((statSync(file).size / 1e6).toPrecision(3)) : undefined;
}

const mbText = (mb: number | undefined): string => (mb === undefined ? 'missing' : `${mb < 0.1 ? mb.toFixed(3) : mb.toFixed(1)} MB`);

const shapeOf = (card: ModelCard): [number, number, number] => [card.image.channels, card.image.height, card.image.width];

/** `models list`: one row per model, or one JSON line (an array) with `--json`. */
export function modelsList(json = false): string[] {
  const rows = listModels().map((m) => ({
    name: m.name,
    origin: m.origin,
    dir: m.dir,
    ...(m.card ? { shape: shapeOf(m.card), parameterization: m.card.parameterization, dataset: m.card.dataset } : {}),
    sizeMB: sizeMB(m.dir, m.card),
    ...(m.error ? { error: m.error } : {}),
  }));
  if (json) return [JSON.stringify(rows)];
  const where = `bundled in ${MODELS_DIR}, yours in ${userModelsDir()} (set LAGRANGE_MODELS to change)`;
  if (rows.length === 0) return [`no models (${where})`];
  const table = rows.map((r) => [
    r.name,
    r.origin,
    r.shape ? r.shape.join('×') : '-',
    r.parameterization ?? '-',
    mbText(r.sizeMB),
    r.error ? `unreadable card: ${r.error}` : (r.dataset ?? ''),
  ]);
  const head = ['NAME', 'ORIGIN', 'SHAPE', 'PREDICTS', 'SIZE', 'DATASET'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((s, i) => (i === cells.length - 1 ? s : s.padEnd(widths[i]!))).join('  ');
  return [line(head), ...table.map(line), `(${where})`];
}

function describeTensor(t: TensorInfo, role?: string): string {
  const dims = t.shape.length ? `[${t.shape.join(', ')}]` : '(shape unknown)';
  return `${t.name}: ${t.type} ${dims}${role ? `  ← card ${role}` : ''}`;
}

function describeSchedule(card: ModelCard): string {
  const s = card.schedule;
  return s.kind === 'linear' ? `linear β ${s.betaMin}…${s.betaMax}, T = ${s.T}` : `table of ${s.alphaBars.length} ᾱ values`;
}

/** Label + value rows, the value lines after the first indented under the value column. */
function field(label: string, values: string[]): string[] {
  return values.map((v, i) => `  ${(i === 0 ? label : '').padEnd(11)}${v}`);
}

function inspectLines(r: ModelInspection): string[] {
  const { card } = r;
  const roles = new Map<string, string>(Object.entries(card.inputs).map(([role, name]) => [name, `inputs.${role}`]));
  roles.set(card.outputs.prediction, 'outputs.prediction');
  return [
    `${card.name} (${r.dir})`,
    ...field('about', [card.description]),
    ...field('image', [`${shapeOf(card).join('×')}, range [${card.image.range.join(', ')}]`]),
    ...field('predicts', [card.parameterization]),
    ...field('schedule', [describeSchedule(card)]),
    ...field('timestep', [`${card.timestep.dtype}, network t = step × ${card.timestep.scale}`]),
    ...field('dataset', [card.dataset]),
    ...field('license', [card.license]),
    ...field('training', [card.training]),
    ...(card.quality ? field('quality', [JSON.stringify(card.quality)]) : []),
    ...field('file', [`${card.files.model} (${mbText(sizeMB(r.dir, card))})`]),
    ...field(
      'inputs',
      r.io.inputs.map((t) => describeTensor(t, roles.get(t.name))),
    ),
    ...field(
      'outputs',
      r.io.outputs.map((t) => describeTensor(t, roles.get(t.name))),
    ),
    ...field(
      'providers',
      r.providers.map((p) => `${p.provider}: ${p.available ? 'available' : `unavailable (${p.reason})`}`),
    ),
  ];
}

/** `models inspect <dir|name>`: card, ONNX inputs/outputs, providers available here. */
export async function modelsInspect(target: string, json = false): Promise<string[]> {
  const r = await inspectModel(resolveModelDir(target));
  return json ? [JSON.stringify(r)] : inspectLines(r);
}

function checkLines(r: ModelCheck): string[] {
  const providers = r.providers.map((p) => {
    const state = !p.available ? `unavailable (${p.reason})` : p.error ? `FAILED: ${p.error}` : `ok, ${p.forwardMs!.toFixed(2)} ms per forward (batch 2, median of 3)`;
    return `${p.provider.padEnd(7)}${state}`;
  });
  const ref = r.reference;
  return [
    `${r.card.name} (${r.dir}): ${r.ok ? 'ok' : 'FAILED'}`,
    ...field('providers', providers),
    ...field('reference', [
      ref
        ? `${ref.count} samples from check/, max |ε − ε_ref| = ${ref.maxAbsError.toExponential(2)} (tolerance ${REFERENCE_TOLERANCE})`
        : 'none (add check/x.npy, t.npy, eps.npy from the training framework to compare)',
    ]),
    ...(r.latent ? latentCheckLines(r.latent) : []),
    ...r.problems.map((p) => `  problem    ${p}`),
  ];
}

/** The latent part of a check: the autoencoder, its references and the decoder gradcheck. */
function latentCheckLines(l: NonNullable<ModelCheck['latent']>): string[] {
  const ref = (k: 'encoder' | 'decoder'): string => {
    const r = l.reference[k];
    return r ? `${k} ${r.count} samples, max error ${r.maxAbsError.toExponential(2)}` : `${k} no reference in check/`;
  };
  return field('latent', [
    `autoencoder ${l.autoencoder}: image ${l.imageShape.join('×')} ↔ latent ${l.latentShape.join('×')}, scale factor ${l.scaleFactor.toPrecision(5)}`,
    `${ref('encoder')}; ${ref('decoder')}`,
    l.gradcheck ? `decoder VJP vs central differences: worst relative error ${l.gradcheck.worst.toExponential(2)} (${l.gradcheck.probes} probes)` : 'decoder VJP: not derived',
  ]);
}

/**
 * `models check <dir|name>`: the report as text or one JSON line; `ok` false when any check
 * failed (the CLI then exits non-zero).
 */
export async function modelsCheck(target: string, opts: { provider?: ExecutionProvider; json?: boolean } = {}): Promise<{ ok: boolean; lines: string[]; problems: string[] }> {
  const r = await checkModel(resolveModelDir(target), opts.provider ? { providers: [opts.provider] } : {});
  return { ok: r.ok, lines: opts.json ? [JSON.stringify(r)] : checkLines(r), problems: r.problems };
}
