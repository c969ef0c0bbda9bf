/**
 * `models inspect` and `models check`: what a model folder declares and holds (card, ONNX inputs
 * and outputs, which execution providers can open it here), and whether it works: loads, answers
 * in the shape its card promises, gives finite values, agrees with the framework it was exported
 * from (reference inputs/outputs in `check/`), and how fast one forward is on each provider.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readNpy } from '../io/npy';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { sameShape, shapeStr, tensor } from '../tensor/tensor';
import type { LatentCheck } from './latentCheck';
import { checkLatentFolder } from './latentCheck';
import { readLatentBlock } from './latentCard';
import type { ModelCard } from './modelCard';
import { readModelCard } from './modelCard';
import type { ExecutionProvider, OnnxScoreModel, TensorInfo } from './onnxPrior';
import { loadOnnxPrior, ModelError, PROVIDER_ORDER, providerUnavailable } from './onnxPrior';

/** Whether a provider can open the model here, and why not. */
export interface ProviderStatus {
  provider: ExecutionProvider;
  available: boolean;
  /** Why it is unavailable (not built in, add-on missing, no device, …). */
  reason?: string;
}

/** The report of {@link inspectModel}. */
export interface ModelInspection {
  dir: string;
  card: ModelCard;
  /** The ONNX graph's inputs and outputs (names, element types, shapes with symbolic dims). */
  io: { inputs: TensorInfo[]; outputs: TensorInfo[] };
  providers: ProviderStatus[];
}

/** How one provider fared in {@link checkModel}. */
export interface ProviderCheck extends ProviderStatus {
  /** Why the model failed on an available provider (wrong output shape, card mismatch, …). */
  error?: string;
  /** Median of 3 timed forwards of a batch of 2 at a mid timestep, after a warm-up. */
  forwardMs?: number;
}

/** The report of {@link checkModel}. */
export interface ModelCheck {
  ok: boolean;
  dir: string;
  card: ModelCard;
  io?: { inputs: TensorInfo[]; outputs: TensorInfo[] };
  providers: ProviderCheck[];
  /** Agreement with the exporting framework on `check/x.npy, t.npy → eps.npy` (CPU provider). */
  reference?: { count: number; maxAbsError: number };
  /** A latent prior's folder: its encoder, decoder and how they fit the prior (`latentCheck.ts`). */
  latent?: LatentCheck;
  /** What failed; each message names the file concerned. */
  problems: string[];
}

/** Reference errors above this mean the export is wrong, not float32 round-off. */
export const REFERENCE_TOLERANCE = 1e-3;

/** The useful part of an onnxruntime error: its first line, without the native assertion prefix. */
function reasonOf(e: unknown): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  return / was false\. (.+)$/.exec(line)?.[1] ?? line;
}

const info = (m: ort.InferenceSession.ValueMetadata): TensorInfo =>
  m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };

function modelFile(dir: string, card: ModelCard): string {
  const file = join(dir, card.files.model);
  if (!existsSync(file)) throw new ModelError(`${file}: missing (named by ${join(dir, 'model.json')} files.model)`);
  return file;
}

/**
 * Why `provider` cannot open `file` here, or undefined when it can: first the cheap static check,
 * then a real session (a provider can be built in and still find no device, e.g. WebGPU).
 */
async function probe(file: string, provider: ExecutionProvider): Promise<string | undefined> {
  const why = providerUnavailable(provider);
  if (why) return why;
  try {
    const session = await ort.InferenceSession.create(file, { executionProviders: [provider], logSeverityLevel: 3 });
    await session.release();
    return undefined;
  } catch (e) {
    return reasonOf(e);
  }
}

/**
 * The card, the ONNX graph's inputs/outputs (read on the CPU provider, without matching them
 * against the card, so a mismatched card can still be inspected) and which providers can open it.
 */
export async function inspectModel(dir: string, opts: { providers?: readonly ExecutionProvider[] } = {}): Promise<ModelInspection> {
  const card = readModelCard(dir);
  const file = modelFile(dir, card);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  } catch (e) {
    throw new ModelError(`${file}: onnxruntime cannot load it (${reasonOf(e)})`);
  }
  const io = { inputs: session.inputMetadata.map(info), outputs: session.outputMetadata.map(info) };
  await session.release();
  const providers: ProviderStatus[] = [];
  for (const provider of opts.providers ?? PROVIDER_ORDER) {
    const reason = await probe(file, provider);
    providers.push(reason === undefined ? { provider, available: true } : { provider, available: false, reason });
  }
  return { dir, card, io, providers };
}

/** A timestep halfway through the card's schedule. */
function midStep(card: ModelCard): number {
  return Math.floor((card.schedule.kind === 'linear' ? card.schedule.T : card.schedule.alphaBars.length) / 2);
}

/**
 * Checks the model in `dir` on the given providers (default: all, in `auto` order). An
 * unavailable provider is reported with its reason and is no failure (except CPU, which is
 * always built in: there a failing session means a broken file); everything else that goes wrong
 * sets `ok: false` with a message naming the file.
 */
export async function checkModel(dir: string, opts: { providers?: readonly ExecutionProvider[] } = {}): Promise<ModelCheck> {
  const card = readModelCard(dir);
  const report: ModelCheck = { ok: true, dir, card, providers: [], problems: [] };
  const fail = (msg: string): void => {
    report.ok = false;
    report.problems.push(msg);
  };
  const file = modelFile(dir, card);
  const { channels: c, height: h, width: w } = card.image;
  const x = tensor([2, c, h, w]);
  createRng(0, 'check').fillNormal(x.data);
  const t = midStep(card);
  let cpuModel: OnnxScoreModel | undefined; // kept for the reference comparison, which runs on CPU
  for (const provider of opts.providers ?? PROVIDER_ORDER) {
    const reason = await probe(file, provider);
    if (reason !== undefined) {
      report.providers.push({ provider, available: false, reason });
      if (provider === 'cpu') fail(`${file}: the CPU provider cannot load it (${reason})`);
      continue;
    }
    try {
      const model = await loadOnnxPrior(dir, { providers: [provider] });
      try {
        report.io ??= model.io;
        // The warm-up. loadOnnxPrior has checked the output's shape against the card (C, or 2C
        // with learned variance), and predictEps checks it again on this batch.
        const eps = await model.predictEps(x, t);
        if (!eps.data.every(Number.isFinite)) throw new ModelError(`${file}: non-finite outputs at t = ${t}`);
        const times: number[] = [];
        for (let k = 0; k < 3; k++) {
          const s = performance.now();
          await model.predictEps(x, t);
          times.push(performance.now() - s);
        }
        report.providers.push({ provider, available: true, forwardMs: times.sort((a, b) => a - b)[1]! });
        if (provider === 'cpu') cpuModel = model;
      } finally {
        if (model !== cpuModel) await model.release();
      }
    } catch (e) {
      const msg = reasonOf(e);
      report.providers.push({ provider, available: true, error: msg });
      fail(`${provider}: ${msg}`);
    }
  }
  if (!report.providers.some((p) => p.forwardMs !== undefined)) fail(`${file}: no execution provider could run it (tried ${report.providers.map((p) => p.provider).join(', ')})`);
  try {
    await checkReference(dir, card, report, fail, cpuModel);
  } finally {
    await cpuModel?.release();
  }
  if (readLatentBlock(dir)) {
    report.latent = await checkLatentFolder(dir);
    for (const p of report.latent.problems) fail(p);
  }
  // A stable key order for the JSON report: verdict, identity, graph, providers, reference, problems.
  const { ok, io, providers, reference, latent, problems } = report;
  return { ok, dir, card, ...(io ? { io } : {}), providers, ...(reference ? { reference } : {}), ...(latent ? { latent } : {}), problems };
}

const REFERENCE_FILES = ['x.npy', 't.npy', 'eps.npy'] as const;

/** Compares predictEps on `check/x.npy, t.npy` with `check/eps.npy`, one sample at a time. */
async function checkReference(dir: string, card: ModelCard, report: ModelCheck, fail: (msg: string) => void, loaded?: OnnxScoreModel): Promise<void> {
  const ref = join(dir, 'check');
  const present = REFERENCE_FILES.filter((f) => existsSync(join(ref, f)));
  if (present.length === 0) return;
  if (present.length < REFERENCE_FILES.length) {
    fail(`${ref}: reference files need ${REFERENCE_FILES.join(', ')}; missing ${REFERENCE_FILES.filter((f) => !present.includes(f)).join(', ')}`);
    return;
  }
  const { channels: c, height: h, width: w } = card.image;
  try {
    // t.npy holds integer step indices (NumPy's int64 by default): their unit is the step itself.
    const [xs, ts, want] = REFERENCE_FILES.map((f) => readNpy(join(ref, f), f === 't.npy' ? { integers: 'values' } : {})) as [Tensor, Tensor, Tensor];
    const n = xs.shape[0] ?? 0;
    if (!sameShape(xs.shape, [n, c, h, w]) || n < 1) throw new ModelError(`${join(ref, 'x.npy')}: shape ${shapeStr(xs.shape)}, the card needs N×${c}×${h}×${w}`);
    if (ts.data.length !== n) throw new ModelError(`${join(ref, 't.npy')}: ${ts.data.length} timesteps for ${n} inputs in x.npy`);
    if (!sameShape(want.shape, xs.shape)) throw new ModelError(`${join(ref, 'eps.npy')}: shape ${shapeStr(want.shape)}, x.npy has ${shapeStr(xs.shape)}`);
    const model = loaded ?? (await loadOnnxPrior(dir, { providers: ['cpu'] }));
    const per = c * h * w;
    let maxAbsError = 0;
    try {
      for (let k = 0; k < n; k++) {
        // One sample at a time: the reference has its own timestep per sample. predictEps maps
        // x₀/v networks onto ε, which is what eps.npy holds.
        const got = await model.predictEps(tensor([1, c, h, w], xs.data.slice(k * per, (k + 1) * per)), ts.data[k]!);
        for (let i = 0; i < per; i++) {
          const d = Math.abs(got.data[i]! - want.data[k * per + i]!);
          maxAbsError = Math.max(maxAbsError, Number.isNaN(d) ? Infinity : d);
        }
      }
    } finally {
      if (model !== loaded) await model.release();
    }
    report.reference = { count: n, maxAbsError };
    if (!(maxAbsError <= REFERENCE_TOLERANCE)) {
      fail(`${join(ref, 'eps.npy')}: the ONNX model differs from the reference outputs by ${maxAbsError.toPrecision(3)} (> ${REFERENCE_TOLERANCE})`);
    }
  } catch (e) {
    fail(reasonOf(e));
  }
}
