/**
 * The ONNX iteration backend for `runPlan`. Two forms:
 * - node by node (`RunOptions.executors`): each lowerable body step (`steps.ts`) runs its own
 *   ONNX session; the score network stays the prior's session, called by the host;
 * - fused (`RunOptions.iterate`, `fused.ts`): the whole body, network included, is one ONNX
 *   model run once per iteration, so on an accelerator an iteration costs one session call.
 * Both draw the JS runtime's noise from the same seeded streams in the same order, so a run
 * matches the JS runtime to float32 rounding. Steps without a lowering run their JS executor
 * (node by node), or make the fused form unavailable; the run report says what ran where.
 */
import type { Plan } from '../compile/plan';
import { fusedOperatorNote } from '../operators/onnx/lower';
import { PROVIDER_ORDER, providerUnavailable } from '../priors/onnxPrior';
import type { ExecutionProvider } from '../priors/onnxPrior';
import type { Executor } from '../runtime/executors';
import { executors as jsExecutors } from '../runtime/executors';
import type { RunOptions } from '../runtime/run';
import type { Tensor } from '../tensor/tensor';
import { fuseIteration } from './fused';
import { hasExactVjp, prepareExactVjp } from './autodiff/priorVjp';
import type { OnnxScoreModel } from '../priors/onnxPrior';
import type { NoisePrefetcher } from './noise';
import { openSession } from './session';
import type { OnnxSession } from './session';
import { lowerStep } from './steps';
import type { LoweredStep } from './steps';

/**
 * Node kinds that have an ONNX lowering (steps.ts). Some instances still run in JS, with the
 * reason in the run's note: XUpdate prox on deblur-motion (its proxL2 is a CG solve), and
 * ProbabilityFlowODE node by node (the host calls the network between its Euler steps). A fused
 * graph also needs DPSGuidance's prior to have a VJP in the graph (see prior-vjp.ts).
 */
export const ONNX_BACKEND_KINDS = ['Denoise', 'XUpdate', 'ZUpdate', 'DualUpdate', 'Noising', 'DPSGuidance', 'AnnealedLangevin', 'ProbabilityFlowODE'] as const;

/** The plan's execution provider when it is a GPU one usable here, then CPU. */
export function providersFor(plan: Plan): ExecutionProvider[] {
  const wanted = plan.prior.provider.replace(/^onnx:/, '') as ExecutionProvider;
  const gpu = wanted !== 'cpu' && (PROVIDER_ORDER as readonly string[]).includes(wanted) && !providerUnavailable(wanted);
  return gpu ? [wanted, 'cpu'] : ['cpu'];
}

/** A prepared ONNX backend: the `runPlan` options to use, and its sessions to release after the run. */
export interface OnnxBackend {
  options: Pick<RunOptions, 'executors' | 'iterate'>;
  /** 'fused' when the whole iteration is one model, else 'node'. */
  form: 'fused' | 'node';
  /** What ran where (also added to the run report's warnings). */
  note: string;
  /** Fused form: the threads drawing the next iterations' noise, when there are any. */
  prefetcher?: NoisePrefetcher;
  release(): Promise<void>;
}

/** Options of {@link onnxBackend}. */
export interface OnnxBackendOptions {
  /** Try the fused iteration graph first (default true); falls back to node by node, saying why. */
  fused?: boolean;
  /** Fused form: draw the next iterations' noise in worker threads (see `FuseOptions.prefetchNoise`). */
  prefetchNoise?: boolean | number;
}

/**
 * Prepares the ONNX backend for `plan`: opens every session now, so lowering failures are known
 * before the run starts.
 * @param plan - the compiled plan the backend will run
 */
export async function onnxBackend(plan: Plan, opts: OnnxBackendOptions = {}): Promise<OnnxBackend> {
  const providers = providersFor(plan);
  let why = '';
  if (opts.fused ?? true) {
    await prepareExactVjps(plan);
    const fused = await fuseIteration(plan, providers, opts.prefetchNoise !== undefined ? { prefetchNoise: opts.prefetchNoise } : {});
    if ('iterate' in fused) {
      const note = `backend: onnx (fused: the whole iteration, score network included, is one ONNX model on ${fused.provider}; ${fused.noise}${fusedOperatorNote(plan.measurement.op)})`;
      const iterate: NonNullable<RunOptions['iterate']> = async (k, values, warn) => {
        warn(note);
        return fused.iterate(k, values, warn);
      };
      return { options: { iterate }, form: 'fused', note, ...(fused.prefetcher ? { prefetcher: fused.prefetcher } : {}), release: fused.release };
    }
    why = `; not fused: ${fused.reason}`;
  }
  return nodeByNode(plan, providers, why);
}

async function nodeByNode(plan: Plan, providers: readonly ExecutionProvider[], why: string): Promise<OnnxBackend> {
  const byNode = new Map<string, { lowered: LoweredStep; session: OnnxSession }>();
  const inJs: string[] = [];
  const inOnnx = new Set<string>();
  let provider: ExecutionProvider = 'cpu';
  for (const step of plan.body) {
    const lowered = lowerStep(step, plan, 'node');
    if (typeof lowered === 'string') {
      inJs.push(lowered.startsWith('XUpdate (') ? lowered : step.kind === 'XUpdate' ? 'XUpdate (prox)' : step.kind);
      continue;
    }
    const session = await openSession(lowered.model, providers);
    provider = session.provider;
    byNode.set(step.id, { lowered, session });
    inOnnx.add(step.kind);
  }
  const note = `backend: onnx (${[...inOnnx].join(', ') || 'nothing'} via ONNX on ${provider}; ran in JS: ${[...new Set(inJs)].join(', ') || 'nothing'}${why})`;

  const table: Record<string, Executor> = {};
  for (const [kind, js] of Object.entries(jsExecutors)) {
    table[kind] = async (ctx) => {
      ctx.warn(note); // one message for the whole run: the report's warnings are a set
      const own = byNode.get(ctx.node);
      if (!own) return js(ctx);
      const { lowered, session } = own;
      const inputs: Record<string, Tensor> = {};
      for (const [name, port] of Object.entries(lowered.wires)) inputs[name] = ctx.input(port) as Tensor;
      const n = (inputs[Object.keys(inputs)[0]!] ?? { shape: [plan.samples] }).shape[0]!;
      Object.assign(inputs, await lowered.feeds(ctx, n));
      const outs = await session.run(inputs);
      return Object.fromEntries(Object.entries(lowered.outputs).map(([name, port]) => [port, outs[name]!]));
    };
  }
  return {
    options: { executors: table },
    form: 'node',
    note,
    release: async () => {
      await Promise.all([...byNode.values()].map((s) => s.session.release()));
    },
  };
}

/**
 * Derives the fused-graph form of every exact denoiser VJP a DPS step of `plan` will call (its
 * prior input, else the plan's prior), so that lowering can inline it; other plans pay nothing.
 */
async function prepareExactVjps(plan: Plan): Promise<void> {
  for (const step of plan.body.filter((s) => s.kind === 'DPSGuidance')) {
    const ref = step.inputs.prior;
    const prior = (ref ? plan.constants.get(`${ref.node}.${ref.port}`) : plan.prior) ?? plan.prior;
    if (hasExactVjp(prior)) await prepareExactVjp(prior as OnnxScoreModel, plan.imageShape);
  }
}
