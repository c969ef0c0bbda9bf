/**
 * `models check`: does a model folder load, answer in the shape its card promises, give finite
 * values, agree with the framework it was exported from (reference inputs/outputs in `check/`),
 * and how fast is one forward on each execution provider available here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../io/npy';
import { createRng } from '../tensor/rng';
import { tensor } from '../tensor/tensor';
import type { ModelCard } from './modelCard';
import { readModelCard } from './modelCard';
import type { ExecutionProvider, TensorInfo } from './onnxPrior';
import { loadOnnxPrior, PROVIDER_ORDER, providerUnavailable } from './onnxPrior';

/** How one provider fared. */
export interface ProviderCheck {
  provider: ExecutionProvider;
  available: boolean;
  /** Why it is unavailable or failed. */
  error?: string;
  /** Median of 3 timed forwards of a batch of 2, after a warm-up. */
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
  problems: string[];
}

/** Reference errors above this mean the export is wrong, not float32 round-off. */
const REFERENCE_TOLERANCE = 1e-3;

/** Checks the model in `dir` on the given providers (default: all, in `auto` order). */
export async function checkModel(dir: string, opts: { providers?: readonly ExecutionProvider[] } = {}): Promise<ModelCheck> {
  const card = readModelCard(dir);
  const report: ModelCheck = { ok: true, dir, card, providers: [], problems: [] };
  const fail = (msg: string): void => {
    report.ok = false;
    report.problems.push(msg);
  };
  const { channels: c, height: h, width: w } = card.image;
  const x = tensor([2, c, h, w]);
  createRng(0, 'check').fillNormal(x.data);
  for (const provider of opts.providers ?? PROVIDER_ORDER) {
    const why = providerUnavailable(provider);
    if (why) {
      report.providers.push({ provider, available: false, error: why });
      continue;
    }
    try {
      const model = await loadOnnxPrior(dir, { providers: [provider] });
      report.io ??= model.io;
      const t = Math.floor(card.schedule.kind === 'linear' ? card.schedule.T / 2 : card.schedule.alphaBars.length / 2);
      const eps = await model.predictEps(x, t); // also checks the output shape against the card
      if (!eps.data.every(Number.isFinite)) fail(`${join(dir, card.files.model)} on ${provider}: non-finite outputs at t = ${t}`);
      const times: number[] = [];
      for (let k = 0; k < 3; k++) {
        const s = performance.now();
        await model.predictEps(x, t);
        times.push(performance.now() - s);
      }
      await model.release();
      report.providers.push({ provider, available: true, forwardMs: times.sort((a, b) => a - b)[1]! });
    } catch (e) {
      report.providers.push({ provider, available: true, error: (e as Error).message });
      fail(`${provider}: ${(e as Error).message}`);
    }
  }
  if (!report.providers.some((p) => p.forwardMs !== undefined)) fail('no execution provider could run the model');
  const ref = join(dir, 'check');
  if (existsSync(join(ref, 'eps.npy'))) {
    const xs = readNpy(join(ref, 'x.npy')), ts = readNpy(join(ref, 't.npy')), want = readNpy(join(ref, 'eps.npy'));
    const model = await loadOnnxPrior(dir, { providers: ['cpu'] });
    const per = c * h * w, n = xs.shape[0]!;
    let maxAbsError = 0;
    for (let k = 0; k < n; k++) {
      // One sample at a time: the reference uses a different timestep per sample.
      const got = await model.predictEps(tensor([1, c, h, w], xs.data.slice(k * per, (k + 1) * per)), ts.data[k]!);
      for (let i = 0; i < per; i++) maxAbsError = Math.max(maxAbsError, Math.abs(got.data[i]! - want.data[k * per + i]!));
    }
    await model.release();
    report.reference = { count: n, maxAbsError };
    if (!(maxAbsError <= REFERENCE_TOLERANCE)) fail(`${join(ref, 'eps.npy')}: the ONNX model differs from the reference outputs by ${maxAbsError.toPrecision(3)} (> ${REFERENCE_TOLERANCE})`);
  }
  return report;
}
