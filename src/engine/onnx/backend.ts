/**
 * The ONNX iteration backend: an executor table for `runPlan` (`RunOptions.executors`) in which
 * Denoise, the gradient XUpdate, ZUpdate and DualUpdate compute through the ONNX update models of
 * `updates.ts`, with the JS executors' schedule scalars and the same seeded noise streams drawn in
 * the same order, so a run matches the JS runtime to float32 rounding. Every other node kind (and
 * the prox XUpdate) runs its JS executor; the run report gets one warning saying which. The score
 * network stays its own session (the prior's `predictEps`), counted by the runtime as before.
 */
import * as ort from 'onnxruntime-node';
import type { Plan } from '../compile/plan';
import type { ResolvedSchedule } from '../compile/schedule';
import type { GradientStepParams, MeasurementValue, NoisingStepParams } from '../kernels/updates';
import type { ForwardModel } from '../operators/types';
import { PROVIDER_ORDER, providerUnavailable } from '../priors/onnxPrior';
import type { ExecutionProvider } from '../priors/onnxPrior';
import type { ScoreModel } from '../priors/types';
import type { Executor, StepContext } from '../runtime/executors';
import { executors as jsExecutors } from '../runtime/executors';
import type { Shape, Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { NoisingLevel } from './updates';
import { denoiseModel, dualUpdateModel, gradientStepSize, noisingNoise, scalarInputs, xUpdateGradientModel, zUpdateModel, zUpdateScalars } from './updates';

/** Node kinds that have an ONNX executor (XUpdate in gradient mode only). */
export const ONNX_BACKEND_KINDS = ['Denoise', 'XUpdate', 'ZUpdate', 'DualUpdate'] as const;

type Run = (inputs: Readonly<Record<string, Tensor>>) => Promise<Tensor>;

/** The plan's execution provider when it is a GPU one usable here, then CPU. */
function providersFor(plan: Plan): ExecutionProvider[] {
  const wanted = plan.prior.provider.replace(/^onnx:/, '') as ExecutionProvider;
  const gpu = wanted !== 'cpu' && (PROVIDER_ORDER as readonly string[]).includes(wanted) && !providerUnavailable(wanted);
  return gpu ? [wanted, 'cpu'] : ['cpu'];
}

async function openSession(bytes: Uint8Array, providers: readonly ExecutionProvider[]): Promise<{ run: Run; provider: ExecutionProvider }> {
  let last: unknown;
  for (const provider of providers) {
    try {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: [provider], logSeverityLevel: 3 });
      const output = session.outputNames[0]!;
      const run: Run = async (inputs) => {
        const feeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', t.data, [...t.shape]);
        const out = (await session.run(feeds))[output]!;
        // Copied: ORT may reuse the output buffer on the next run, and the runtime keeps values.
        return tensor([...out.dims], (out.data as Float32Array).slice());
      };
      return { run, provider };
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

const img = (ctx: StepContext, port: string): Tensor => ctx.input(port) as Tensor;
const opt = (ctx: StepContext, port: string): Tensor | undefined => ctx.input(port) as Tensor | undefined;
const sched = (ctx: StepContext): ResolvedSchedule => ctx.input('schedule') as ResolvedSchedule;
const shapeKey = (s: Shape): string => s.join('x');

/**
 * Executors by node kind for `runPlan(plan, { executors })`. Sessions are opened here for the
 * plan's body (one per model configuration and per-sample shape, i.e. per node) and reused every
 * iteration; a configuration met only at run time (another shape) is opened once, then cached.
 * An operator that cannot be lowered makes its XUpdate run in JS.
 * @param plan - the compiled plan whose body the table will run
 */
export async function onnxExecutors(plan: Plan): Promise<Record<string, Executor>> {
  const providers = providersFor(plan);
  const sessions = new Map<string, Promise<{ run: Run; provider: ExecutionProvider }>>();
  const opIds = new WeakMap<ForwardModel, number>(); // operators by identity: equal ids may differ in parameters
  let nextOp = 0;
  const unlowerable = new WeakSet<ForwardModel>();
  const session = (key: string, build: () => Uint8Array): Promise<{ run: Run; provider: ExecutionProvider }> => {
    let s = sessions.get(key);
    if (!s) {
      s = Promise.resolve().then(() => openSession(build(), providers));
      sessions.set(key, s);
    }
    return s;
  };
  const opKey = (op: ForwardModel): string => {
    if (!opIds.has(op)) opIds.set(op, nextOp++);
    return `${op.id}#${opIds.get(op)}`;
  };

  const keys = {
    denoise: (shape: Shape, clip: boolean) => [`denoise|${shapeKey(shape)}|${clip}`, () => denoiseModel(shape, { clip })] as const,
    x: (op: ForwardModel, normalize: boolean, withU: boolean) => [`x|${opKey(op)}|${normalize}|${withU}`, () => xUpdateGradientModel(op, { normalize, withU })] as const,
    z: (shape: Shape, p: NoisingStepParams, withU: boolean) => [`z|${shapeKey(shape)}|${p.posteriorStd}|${withU}`, () => zUpdateModel(shape, { posteriorStd: p.posteriorStd, withU })] as const,
    dual: (shape: Shape) => [`dual|${shapeKey(shape)}`, () => dualUpdateModel(shape)] as const,
  };
  const perSample = (t: Tensor): Shape => t.shape.slice(1);

  // Open the sessions of the plan's body now, so lowering failures are known before the run
  // and the one report warning can name everything that runs in JS.
  const inJs: string[] = [];
  let provider: ExecutionProvider = 'cpu';
  for (const step of plan.body) {
    const withU = step.inputs.u !== undefined;
    let opened: Promise<{ provider: ExecutionProvider }> | undefined;
    if (step.kind === 'Denoise') opened = session(...keys.denoise(plan.imageShape, step.params.clip as boolean));
    else if (step.kind === 'XUpdate' && step.params.mode !== 'prox') opened = session(...keys.x(plan.measurement.op, step.params.normalize as boolean, withU));
    else if (step.kind === 'ZUpdate') opened = session(...keys.z(plan.imageShape, step.params as unknown as NoisingStepParams, withU));
    else if (step.kind === 'DualUpdate') opened = session(...keys.dual(plan.imageShape));
    if (!opened) {
      inJs.push(step.kind === 'XUpdate' ? 'XUpdate (prox)' : step.kind);
      continue;
    }
    try {
      provider = (await opened).provider;
    } catch (e) {
      if (step.kind !== 'XUpdate') throw e; // the fixed-shape models always lower; a failure is a bug
      unlowerable.add(plan.measurement.op);
      inJs.push(`XUpdate (${plan.measurement.op.id} not lowered: ${(e as Error).message.split('\n')[0]})`);
    }
  }
  const ran = ONNX_BACKEND_KINDS.filter((k) => plan.body.some((s) => s.kind === k) && !inJs.some((j) => j.startsWith(k)));
  const note = `backend: onnx (${ran.join(', ') || 'nothing'} via ONNX on ${provider}; ran in JS: ${[...new Set(inJs)].join(', ') || 'nothing'})`;

  const table: Record<string, Executor> = {};
  for (const [kind, js] of Object.entries(jsExecutors)) {
    table[kind] = (ctx) => {
      ctx.warn(note); // one message for the whole run: the report's warnings are a set
      return js(ctx);
    };
  }

  table.Denoise = async (ctx) => {
    ctx.warn(note);
    const prior = ctx.input('prior') as ScoreModel, xt = img(ctx, 'xt');
    const t = sched(ctx).t[ctx.k]!;
    const eps = await prior.predictEps(xt, t); // the score network stays its own session
    const s = await session(...keys.denoise(perSample(xt), ctx.params.clip as boolean));
    // ᾱ from the prior's own schedule, as `denoiseWithEps`.
    return { x0: await s.run({ xt, eps, ...scalarInputs({ alphaBar: prior.schedule.alphaBarAt(t) }) }), eps };
  };
  table.XUpdate = async (ctx) => {
    const m = ctx.input('measurement') as MeasurementValue;
    if (ctx.params.mode === 'prox' || unlowerable.has(m.op)) return jsXUpdate(ctx);
    ctx.warn(note);
    const p = ctx.params as unknown as GradientStepParams, u = opt(ctx, 'u');
    let s: { run: Run };
    try {
      s = await session(...keys.x(m.op, p.normalize, u !== undefined));
    } catch {
      unlowerable.add(m.op); // met only at run time; its failed session stays cached
      return jsXUpdate(ctx);
    }
    const gamma = gradientStepSize(m.op.inShape, sched(ctx).t[ctx.k]!, p);
    return { x: await s.run({ z: img(ctx, 'z'), ...(u ? { u } : {}), y: m.y, ...scalarInputs({ gamma }) }) };
  };
  const jsXUpdate = (ctx: StepContext): Promise<Record<string, Tensor>> => {
    ctx.warn(note);
    return jsExecutors.XUpdate!(ctx);
  };
  table.ZUpdate = async (ctx) => {
    ctx.warn(note);
    const sc = sched(ctx), k = ctx.k, p = ctx.params as unknown as NoisingStepParams;
    const xt = img(ctx, 'xt'), x = img(ctx, 'x'), u = opt(ctx, 'u');
    const at: NoisingLevel = { t: sc.t[k]!, alphaBarT: sc.alphaBarT[k]!, alphaBarS: sc.alphaBarS[k]!, betaT: sc.betaT[k]! };
    const { n, n2 } = noisingNoise(xt.shape, at, p, ctx.rng()); // the node's stream, noisingStep's order
    const s = await session(...keys.z(perSample(xt), p, u !== undefined));
    return { xt: await s.run({ xt, x, ...(u ? { u } : {}), n, n2, ...zUpdateScalars(at, p) }) };
  };
  table.DualUpdate = async (ctx) => {
    ctx.warn(note);
    const u = img(ctx, 'u');
    const s = await session(...keys.dual(perSample(u)));
    return { u: await s.run({ u, x: img(ctx, 'x'), z: img(ctx, 'z'), ...scalarInputs({ rho: ctx.params.rho as number }) }) };
  };
  return table;
}
