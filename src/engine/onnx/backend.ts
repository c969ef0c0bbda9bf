/**
 * The ONNX iteration backends (`runtime/backend.ts` registers them). Two forms:
 * - node by node (`onnx-node`): each lowerable body step (`steps.ts`) runs its own ONNX
 *   session; the score network stays the prior's session, called by the host;
 * - fused (`onnx-fused`, `fused.ts`): the whole body, network included, is one ONNX model run
 *   once per iteration, so on an accelerator an iteration costs one session call.
 * Both draw the JS runtime's noise from the same seeded streams in the same order, so a run
 * matches the JS runtime to float32 rounding. Steps without a lowering run their JS executor
 * (node by node), or make the fused form unavailable; the placement says what ran where.
 */
import type { Plan } from '../compile/plan';
import { fusedOperatorNote } from '../operators/onnx/lower';
import { PROVIDER_ORDER, providerUnavailable } from '../priors/onnxPrior';
import type { ExecutionProvider } from '../priors/onnxPrior';
import type { Executor } from '../runtime/executors';
import { executors as jsExecutors } from '../runtime/executors';
import { BackendUnavailable } from '../runtime/backend';
import type { IterationBackend, NotFusable, Placement, PreparedBackend } from '../runtime/backend';
import type { Tensor } from '../tensor/tensor';
import { fuseIteration } from './fused';
import { hasExactVjp, prepareExactVjp } from './autodiff/priorVjp';
import type { OnnxScoreModel } from '../priors/onnxPrior';
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

/** The summary's label for a step that ran in JS: XUpdate's reason names its operator's form (what decides where it runs); other kinds by name. */
const jsLabel = (p: Placement): string => (p.kind === 'XUpdate' && p.reason ? p.reason.why : p.kind);

/** `node "x": why`, or the body-wide why, as the summaries print a {@link NotFusable}. */
export const notFusableText = (r: NotFusable): string => (r.node ? `node "${r.node}": ${r.why}` : r.why);

/**
 * ONNX fused: the whole body, score network included, one ONNX model run once per iteration.
 * Refuses ({@link BackendUnavailable}) a plan with a step that has no fused lowering.
 */
export const onnxFusedBackend: IterationBackend = {
  id: 'onnx-fused',
  async prepare(plan, options = {}) {
    await prepareExactVjps(plan);
    const fused = await fuseIteration(plan, providersFor(plan), options.prefetchNoise !== undefined ? { prefetchNoise: options.prefetchNoise } : {});
    if ('reason' in fused) throw new BackendUnavailable(fused.reason);
    return {
      id: 'onnx-fused',
      step: { form: 'fused', iterate: fused.iterate },
      placement: plan.body.map((s) => ({ node: s.id, kind: s.kind, ranOn: 'onnx', provider: fused.provider })),
      summary: `backend: onnx (fused: the whole iteration, score network included, is one ONNX model on ${fused.provider}; ${fused.noise}${fusedOperatorNote(plan.measurement.op)})`,
      ...(fused.prefetcher ? { prefetcher: fused.prefetcher } : {}),
      release: fused.release,
    };
  },
};

/** ONNX node by node: each lowerable step its own session, the others their JS executor. */
export const onnxNodeBackend: IterationBackend = {
  id: 'onnx-node',
  prepare: (plan) => prepareNodeByNode(plan),
};

/**
 * Prepares {@link onnxNodeBackend} for `plan`; `fallback` is why the fused form was refused, when
 * node by node was not the choice but the fallback.
 */
export async function prepareNodeByNode(plan: Plan, fallback?: NotFusable): Promise<PreparedBackend> {
  const providers = providersFor(plan);
  const byNode = new Map<string, { lowered: LoweredStep; session: OnnxSession }>();
  const placement: Placement[] = [];
  try {
    for (const step of plan.body) {
      const lowered = lowerStep(step, plan, 'node');
      if (typeof lowered === 'string') {
        placement.push({ node: step.id, kind: step.kind, ranOn: 'js', provider: 'js', reason: { kind: 'not-lowered', node: step.id, why: lowered } });
        continue;
      }
      const session = await openSession(lowered.model, providers);
      byNode.set(step.id, { lowered, session });
      placement.push({ node: step.id, kind: step.kind, ranOn: 'onnx', provider: session.provider });
    }
  } catch (e) {
    await Promise.all([...byNode.values()].map((s) => s.session.release())); // those opened before the failure
    throw e;
  }
  const onnx = placement.filter((p) => p.ranOn === 'onnx');
  const inOnnx = [...new Set(onnx.map((p) => p.kind))].join(', ') || 'nothing';
  const inJs = [...new Set(placement.filter((p) => p.ranOn === 'js').map(jsLabel))].join(', ') || 'nothing';
  const provider = onnx.at(-1)?.provider ?? 'cpu';
  const why = fallback ? `; not fused: ${notFusableText(fallback)}` : '';

  const table: Record<string, Executor> = {};
  for (const [kind, js] of Object.entries(jsExecutors)) {
    table[kind] = async (ctx) => {
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
    id: 'onnx-node',
    step: { form: 'node', executors: table },
    placement,
    ...(fallback ? { fallback } : {}),
    summary: `backend: onnx (${inOnnx} via ONNX on ${provider}; ran in JS: ${inJs}${why})`,
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
