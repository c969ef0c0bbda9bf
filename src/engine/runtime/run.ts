/**
 * Executes a Plan for K iterations: initialises the State registers, evaluates the body in order
 * each iteration, checks every produced tensor for NaN/Inf (stopping with the node and iteration),
 * counts score-model evaluations and their time, emits progress/preview/metrics events, honours an
 * AbortSignal, and can stop after an iteration with a snapshot to resume from. Randomness is
 * drawn from streams keyed by (seed, node, iteration), so a resumed run equals an uninterrupted one.
 * Node by node, each iteration's outputs come from a per-run buffer pool: a value's buffer goes
 * back to the pool once its last reader has run (see `liveness.ts`), so the steady-state loop
 * recycles buffers instead of allocating; registers, snapshots and the result are never reused.
 */
import { key } from '../compile/plan';
import type { BodyStep, Plan, PortRef, Value } from '../compile/plan';
import type { MeasurementValue } from '../kernels/updates';
import { noiseNormalisedResidual, psnr, relativeResidual, ssim } from '../metrics/index';
import type { LpipsNetwork } from '../metrics/lpips';
import type { ScoreModel } from '../priors/types';
import { createRng } from '../tensor/rng';
import { BufferPool } from '../tensor/pool';
import type { Tensor } from '../tensor/tensor';
import { firstNonFinite, shapeStr, sizeOf, tensor } from '../tensor/tensor';
import { versions } from '../version';
import { toRgba } from '../io/frames';
import type { WirePlacement } from '../../protocol/messages';
import type { QualityMetrics, RunEvent, RunReport } from './events';
import type { IterationStep, PreparedBackend } from './backend';
import { executors as jsExecutors, stepStream } from './executors';
import type { StepContext } from './executors';
import { liveness } from './liveness';

/** Raised when a run fails inside a node; names the node and the iteration. */
export class RunError extends Error {
  override name = 'RunError';
  constructor(
    message: string,
    readonly nodeId?: string,
    readonly iteration?: number,
  ) {
    super(message);
  }
}

/** The loop registers after `iteration` iterations. */
export interface Snapshot {
  iteration: number;
  states: Record<string, Tensor>;
}

/** Options of {@link runPlan}. */
export interface RunOptions {
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Resume from a snapshot instead of initialising the states. */
  resume?: Snapshot;
  /** Stop after this many iterations in total and return a snapshot (pause). */
  stopAt?: number;
  /** Minimum time between preview/progress events (the last iteration always reports). */
  throttleMs?: number;
  /**
   * The prepared iteration backend (`backend.ts`: `prepareBackend`); absent, the JS runtime. Its
   * summary of what ran where joins the report's warnings; its placement (and fallback) goes into
   * the report as is.
   */
  backend?: Pick<PreparedBackend, 'step' | 'summary'> & Partial<Pick<PreparedBackend, 'placement' | 'fallback'>>;
  /**
   * Where node outputs come from: by default a pool of this run that recycles dead buffers;
   * `false` allocates every output afresh (the results are bit-identical either way); a given
   * pool is used as is (e.g. to read its counters). A fused body uses none.
   */
  pool?: BufferPool | false;
}

/** A value computed by a fused iteration body, attributed to the node that produced it. */
export interface BodyOutput {
  node: string;
  kind: string;
  port: string;
  value: Tensor;
}

/**
 * Evaluates the whole body of an iteration at once instead of node by node (a fused backend,
 * e.g. `onnx/fused.ts`). Given iteration k and the values so far (constants and the states'
 * `<id>.current`), it returns the values it computed, each with the node that produced it; `nfe` counts the score-network evaluations inside the iteration
 * and `vjpCalls` the denoiser VJPs.
 */
export type IterationBody = (k: number, values: ReadonlyMap<string, Value>, warn: (message: string) => void) => Promise<{ outputs: BodyOutput[]; nfe: number; vjpCalls?: number }>;

/** How a run ended. */
export interface RunResult {
  status: 'done' | 'cancelled' | 'paused';
  /** The Output node's value after the last iteration. */
  result?: Tensor;
  snapshot?: Snapshot;
  report: RunReport;
}

/** Quality of an estimate x̂ (N samples) against a measurement (and its ground truth when known). */
export function qualityOf(m: MeasurementValue, x: Tensor): QualityMetrics {
  const { op, y, sigmaY, x: truth } = m;
  const ax = op.apply(x);
  const q: QualityMetrics = {
    residual: relativeResidual(y, ax),
    normalisedResidual: sigmaY > 0 ? noiseNormalisedResidual(y, ax, sigmaY) : [],
  };
  if (truth) {
    const ref = truthFor(truth, x);
    q.psnr = psnr(x, ref);
    if (x.shape[2]! >= 11 && x.shape[3]! >= 11) q.ssim = ssim(x, ref);
  }
  return q;
}

/** The ground truth as a batch the size of x's (one truth scores N posterior samples). */
const truthFor = (truth: Tensor, x: Tensor): Tensor =>
  truth.shape[0] === x.shape[0]
    ? truth
    : tensor(
        x.shape,
        Float32Array.from({ length: x.data.length }, (_, i) => truth.data[i % truth.data.length]!),
      );

/** {@link qualityOf}, plus LPIPS against the ground truth when a network is given and the truth is known. */
export async function qualityWithLpips(m: MeasurementValue, x: Tensor, lpips: LpipsNetwork | undefined): Promise<QualityMetrics> {
  const q = qualityOf(m, x);
  if (lpips && m.x) q.lpips = await lpips.distance(x, truthFor(m.x, x));
  return q;
}

const isTensor = (v: Value | undefined): v is Tensor => !!v && typeof v === 'object' && 'data' in v && v.data instanceof Float32Array;

/**
 * What ran where, for the report: the backend's record of the body (the JS runtime: every step in
 * JS), then the taps, which always run their JS executors after the body.
 */
function placement(plan: Plan, backend: RunOptions['backend']): WirePlacement[] {
  const steps = backend?.placement ?? plan.body.map((s) => ({ node: s.id, kind: s.kind, ranOn: 'js' as const, provider: 'js' }));
  const body = steps.map((p) => ({ node: p.node, kind: p.kind, ranOn: p.ranOn, provider: p.provider, ...('reason' in p && p.reason ? { reason: p.reason.why } : {}) }));
  const taps = (plan.taps ?? []).map((t) => ({
    node: t.id,
    kind: t.kind,
    ranOn: 'js' as const,
    provider: 'js',
    reason: 'a tap: only sinks read it, so it runs after the body in the iterations they show',
  }));
  return [...body, ...taps];
}

/** N copies of a 1×… tensor (or the tensor itself when it already has batch N). */
function toBatch(t: Tensor, n: number, what: string): Tensor {
  if (t.shape[0] === n) return t;
  if (t.shape[0] !== 1) throw new RunError(`${what}: batch ${t.shape[0]} does not match the run's ${n} samples`);
  const per = sizeOf(t.shape.slice(1));
  const out = tensor([n, ...t.shape.slice(1)]);
  for (let s = 0; s < n; s++) out.data.set(t.data, s * per);
  return out;
}

/** Runs `plan`; resolves when done, cancelled or paused. Failures reject with a {@link RunError}. */
export async function runPlan(plan: Plan, opts: RunOptions = {}): Promise<RunResult> {
  const emit = opts.onEvent ?? ((): void => {});
  const K = plan.schedule.K;
  const N = plan.samples;
  const t0 = performance.now();
  let nfe = 0,
    vjpCalls = 0,
    scoreMs = 0;
  const warnings = new Set(plan.warnings);
  const calls = new Map<string, number>(); // other networks' evaluations (StepContext.tally)
  if (opts.backend?.summary) warnings.add(opts.backend.summary);
  const body: IterationStep = opts.backend?.step ?? { form: 'node', executors: jsExecutors };
  const iterate = body.form === 'fused' ? body.iterate : undefined;
  const executors = body.form === 'node' ? body.executors : jsExecutors;
  const pool = iterate || opts.pool === false ? undefined : (opts.pool ?? new BufferPool());
  const live = pool ? liveness(plan) : undefined;

  // Score models counted and timed; every other constant as compiled.
  const values = new Map<string, Value>();
  for (const [k, v] of plan.constants) {
    const isPrior = typeof v === 'object' && 'predictEps' in v;
    values.set(k, isPrior ? counted(v as ScoreModel) : v);
  }
  function counted(p: ScoreModel): ScoreModel {
    return {
      ...p,
      async predictEps(xt, t) {
        const s = performance.now();
        nfe++;
        try {
          return await p.predictEps(xt, t);
        } finally {
          scoreMs += performance.now() - s;
        }
      },
      ...(p.denoiseVjp
        ? {
            async denoiseVjp(xt: Tensor, t: number, v: Tensor) {
              const s = performance.now();
              vjpCalls++;
              nfe += p.vjpForwards ?? 0; // a finite-difference VJP is network forwards
              try {
                return await p.denoiseVjp!(xt, t, v);
              } finally {
                scoreMs += performance.now() - s;
              }
            },
          }
        : {}),
    };
  }

  // Registers. With a pool, initial values are pool buffers (copies where they come from a
  // constant), so they are recycled like any other once dead; a resumed snapshot's never are.
  const registers = new Map<string, Tensor>();
  const own = (t: Tensor): Tensor => {
    if (!pool) return t;
    const c = pool.alloc(t.shape);
    c.data.set(t.data);
    return c;
  };
  for (const st of plan.states) {
    const shape = [N, ...(st.shape ?? plan.imageShape)]; // an image, or a latent of the graph's autoencoder
    const saved = opts.resume?.states[st.id];
    if (saved) {
      pool?.forget(saved); // a pool shared with the paused run must not recycle the caller's snapshot
      registers.set(st.id, saved);
    } else if (st.init === 'zeros') registers.set(st.id, own(tensor(shape)));
    else if (st.init === 'noise') {
      const x = pool ? pool.alloc(shape) : tensor(shape);
      createRng(plan.seed, `init/${st.id}`).fillNormal(x.data, st.noiseScale);
      registers.set(st.id, x);
    } else if (st.init === 'input') registers.set(st.id, own(toBatch(values.get(key(st.initFrom!)) as Tensor, N, `node "${st.id}" (State) init`)));
    else {
      const { op, y } = plan.measurement;
      if (!op.adjoint) throw new RunError(`node "${st.id}" (State): init "adjoint" needs a linear operator; ${op.id} has no adjoint`, st.id);
      registers.set(st.id, own(toBatch(op.adjoint(y), N, `node "${st.id}" (State) init`)));
    }
  }

  const report = (metrics?: QualityMetrics): RunReport => {
    const wallMs = performance.now() - t0;
    return {
      graph: plan.name,
      hash: plan.hash,
      seed: plan.seed,
      samples: N,
      iterations: K,
      nfe,
      vjpCalls,
      ...(calls.size ? { calls: Object.fromEntries(calls) } : {}),
      wallMs,
      scoreModelMs: scoreMs,
      engineMs: wallMs - scoreMs,
      secondsPerNfe: nfe ? wallMs / 1000 / nfe : 0,
      provider: plan.prior.provider,
      placement: placement(plan, opts.backend),
      ...(opts.backend?.fallback ? { fallback: opts.backend.fallback.why } : {}),
      versions: versions(),
      warnings: [...warnings],
      ...(metrics ? { metrics } : {}),
      task: plan.measurement.op.id,
      sigmaY: plan.measurement.sigmaY,
      ...(plan.profile !== undefined ? { profile: plan.profile } : {}),
      effectiveParams: plan.effectiveParams,
    };
  };
  const snapshot = (iteration: number): Snapshot => ({ iteration, states: Object.fromEntries(registers) });

  /** Stops on NaN/Inf naming the node, port and iteration; otherwise records the value. */
  const check = (o: BodyOutput, k: number): void => {
    const bad = firstNonFinite(o.value);
    if (bad >= 0) {
      const what = Number.isNaN(o.value.data[bad]) ? 'NaN' : 'Inf';
      throw new RunError(`node "${o.node}" (${o.kind}) produced ${what} on '${o.port}' at iteration ${k} (entry ${bad} of ${shapeStr(o.value.shape)}); stopped`, o.node, k);
    }
    values.set(`${o.node}.${o.port}`, o.value);
  };

  /**
   * Forgets the values of dead keys and recycles their tensors, except one whose buffer a live
   * value still shares (an executor may pass a tensor through, or return it on two ports).
   */
  const retire = (keys: readonly string[]): void => {
    const dead: Tensor[] = [];
    for (const k of keys) {
      const v = values.get(k);
      if (values.delete(k) && isTensor(v)) dead.push(v);
    }
    for (const t of dead) {
      let shared = false;
      for (const v of values.values()) if (isTensor(v) && v.data.buffer === t.data.buffer) shared = true;
      if (!shared) pool!.release(t);
    }
  };

  /** Runs body step (or tap) `step` for iteration k; its outputs are checked and recorded. */
  const execute = async (step: BodyStep, k: number): Promise<Record<string, Tensor>> => {
    const ctx: StepContext = {
      ...(pool ? { pool } : {}),
      k,
      node: step.id,
      params: step.params,
      input: (port: string) => (step.inputs[port] ? values.get(key(step.inputs[port]!)) : undefined),
      rng: () => createRng(plan.seed, stepStream(step.id, k)),
      warn: (m: string) => warnings.add(m),
      tally: (what: string, n = 1) => calls.set(what, (calls.get(what) ?? 0) + n),
    };
    let outs: Record<string, Tensor>;
    try {
      outs = await executors[step.kind]!(ctx);
    } catch (e) {
      throw new RunError(`node "${step.id}" (${step.kind}) at iteration ${k}: ${(e as Error).message}`, step.id, k);
    }
    for (const [port, value] of Object.entries(outs)) check({ node: step.id, kind: step.kind, port, value }, k);
    return outs;
  };
  /** Keys of `step`'s outputs that nothing reads (dead at once). */
  const unreadOf = (step: BodyStep, outs: Record<string, Tensor>): string[] =>
    Object.keys(outs)
      .map((p) => `${step.id}.${p}`)
      .filter((o) => !live!.read.has(o) && !live!.carried.has(o));

  // Taps (compile/taps.ts) run after the body, once per iteration at most, when a sink reads them.
  const taps = new Map((plan.taps ?? []).map((t) => [t.id, t]));
  const tapsRun = new Set<string>();
  const runTaps = async (refs: readonly PortRef[], k: number): Promise<void> => {
    const needed = new Set<string>();
    for (const stack = refs.map((r) => r.node); stack.length;) {
      const id = stack.pop()!;
      const t = taps.get(id);
      if (!t || needed.has(id) || tapsRun.has(id)) continue;
      needed.add(id);
      stack.push(...Object.values(t.inputs).map((r) => r.node));
    }
    for (const t of plan.taps ?? []) {
      if (!needed.has(t.id)) continue;
      tapsRun.add(t.id);
      const outs = await execute(t, k);
      if (live) retire(unreadOf(t, outs));
    }
  };

  let lastEmit = -Infinity;
  const lastPreview = new Map<string, number>();
  const throttle = opts.throttleMs ?? 100;
  const start = opts.resume?.iteration ?? 0;
  for (let k = start; k < K; k++) {
    if (opts.signal?.aborted) {
      const r = report();
      emit({ type: 'cancelled', iteration: k, report: r });
      return { status: 'cancelled', snapshot: snapshot(k), report: r };
    }
    for (const st of plan.states) values.set(`${st.id}.current`, registers.get(st.id)!);
    // Last iteration's `next` values live on as the registers just set; their old keys would
    // only make those buffers look shared.
    if (live) for (const c of live.carriedOutputs) values.delete(c);
    if (iterate) {
      let it: Awaited<ReturnType<IterationBody>>;
      try {
        it = await iterate(k, values, (m) => warnings.add(m));
      } catch (e) {
        throw new RunError(`iteration ${k}: ${(e as Error).message}`, undefined, k);
      }
      nfe += it.nfe; // the network runs inside the fused graph: its time is not separable
      vjpCalls += it.vjpCalls ?? 0;
      for (const o of it.outputs) check(o, k);
    } else {
      for (const [i, step] of plan.body.entries()) {
        const outs = await execute(step, k);
        // Nothing awaits the step's inputs any more: those it read last die, with its unread outputs.
        if (live) retire([...live.dieAfter[i]!, ...unreadOf(step, outs)]);
      }
    }
    tapsRun.clear();
    for (const st of plan.states) registers.set(st.id, values.get(key(st.next)) as Tensor);

    const last = k === K - 1;
    if (last && plan.output) await runTaps([plan.output], k);
    const now = performance.now();
    if (last || now - lastEmit >= throttle) {
      lastEmit = now;
      emit({ type: 'progress', iteration: k + 1, of: K, nfe, elapsedMs: now - t0 });
      for (const p of plan.previews) {
        // At most one frame per `every` iterations; with a time throttle, the first allowed
        // iteration after that (a fixed k % every would rarely coincide with the throttle).
        const prev = lastPreview.get(p.id);
        if (last || prev === undefined || k - prev >= p.every) {
          lastPreview.set(p.id, k);
          await runTaps([p.source], k);
          emit({ type: 'preview', nodeId: p.id, label: p.label, iteration: k, ...toRgba(values.get(key(p.source)) as Tensor, p.range) });
        }
      }
      // Let the host's I/O (sockets, IPC) run between iterations; analytic priors never yield.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (plan.metrics && (last || k % plan.metrics.every === 0)) {
      await runTaps([plan.metrics.source], k);
      emit({ type: 'metrics', iteration: k, ...(await qualityWithLpips(plan.measurement, values.get(key(plan.metrics.source)) as Tensor, plan.lpips)) });
    }
    if (opts.stopAt !== undefined && k + 1 === opts.stopAt && !last) return { status: 'paused', snapshot: snapshot(k + 1), report: report() };
    if (live && !last) retire(live.dieAfter[plan.body.length]!); // previews and metrics have read theirs
  }
  const result = plan.output ? (values.get(key(plan.output)) as Tensor) : undefined;
  const done = report(result ? await qualityWithLpips(plan.measurement, result, plan.lpips) : undefined);
  emit({ type: 'done', report: done });
  return { status: 'done', ...(result ? { result } : {}), report: done };
}
