/**
 * The fused iteration graph: every body step of a Plan, lowered for a fused target (`steps.ts`,
 * the score network inlined in Denoise), spliced into one ONNX model in body order. Its inputs are
 * the values the body reads from outside itself (State registers, constant tensors) and each
 * step's host feeds (schedule scalars, noise, y); its outputs are the values the runtime reads
 * after the body (State `next` ports, previews, metrics, the Output). One `session.run` per
 * iteration: the intermediate tensors never come back to the host.
 */
import { key } from '../compile/plan';
import type { Plan, PortRef, Value } from '../compile/plan';
import type { ExecutionProvider } from '../priors/onnxPrior';
import type { NotFusable } from '../runtime/backend';
import type { BodyOutput, IterationBody } from '../runtime/run';
import type { StepContext } from '../runtime/executors';
import { executors as jsExecutors, stepStream } from '../runtime/executors';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { firstNonFinite } from '../tensor/tensor';
import type { Dim } from './builder';
import { GraphBuilder } from './builder';
import { inlineModelOutputs, modelSignature } from './inline';
import type { NoiseRequest } from './noise';
import { NoisePrefetcher, noiseThreads, normalsOf } from './noise';
import { openSession } from './session';
import { lowerStep } from './steps';
import type { LoweredStep } from './steps';

/** A fused body ready to run, or why the plan cannot be fused. */
export type FusedIteration =
  | {
      iterate: IterationBody;
      provider: ExecutionProvider;
      model: Uint8Array;
      /** Where the noise is drawn: worker threads ahead of the iteration, or in place, and why. */
      noise: string;
      /** The noise workers (undefined when the noise is drawn in place). */
      prefetcher?: NoisePrefetcher;
      release(): Promise<void>;
    }
  | { reason: NotFusable };

/** Options of {@link fuseIteration}. */
export interface FuseOptions {
  /**
   * Draw the noise of the next iterations in worker threads while ONNX Runtime runs the current
   * one: `true` (on, threads by the noise's size), a number of threads, `false` (in place).
   * Default: on where it pays (`noiseThreads`: a GPU provider, or on CPU a large draw such as a
   * Langevin chain). The numbers are bit-identical either way.
   */
  prefetchNoise?: boolean | number;
}

/** An ONNX-safe, readable graph name for a value key (`<node>.<port>`). */
const nameOf = (k: string): string => k.replace(/[^\w.:/-]/g, '_');

/**
 * Builds the fused model of `plan` and opens it on the first of `providers` that accepts it.
 * Fails (with a reason, not an exception) when a step has no fused lowering.
 */
export async function fuseIteration(plan: Plan, providers: readonly ExecutionProvider[], opts: FuseOptions = {}): Promise<FusedIteration> {
  const built = buildFused(plan);
  if ('reason' in built) return built;
  const { steps, hostWires, feedNames, outputs } = built;
  const drawing = steps.filter((s) => s.lowered.noise);
  const K = plan.schedule.K,
    n = plan.samples;
  /** Iteration j's noise requests, field names made unique across steps as `<node>|<feed>`. */
  const requestsOf = (j: number): NoiseRequest[] =>
    drawing.flatMap(({ step, lowered }) => lowered.noise!(j, n).map((r) => ({ ...r, fields: r.fields.map((f) => ({ ...f, name: `${step.id}|${f.name}` })) })));
  // Sized on two iterations: some draw nothing (a step's level at 0, t ≤ t₀ at the end).
  const normals = drawing.length ? Math.max(normalsOf(requestsOf(0)), normalsOf(requestsOf(Math.floor(K / 2)))) : 0;
  const threads = (provider: string): number => noiseThreads(opts.prefetchNoise, provider, normals);
  // The provider is known only once the session opens, so a choice that does not depend on it
  // boots the threads alongside (a few hundred ms each) and the default waits for it.
  const fixed = opts.prefetchNoise === false || typeof opts.prefetchNoise === 'number';
  const early = fixed && threads('cpu') > 0 ? NoisePrefetcher.start(plan.seed, threads('cpu')) : undefined;
  const session = await openSession(built.model, providers).catch(async (e: unknown) => {
    const p = await early;
    if (p instanceof NoisePrefetcher) await p.release();
    throw e;
  });
  const started = early ?? (threads(session.provider) > 0 ? NoisePrefetcher.start(plan.seed, threads(session.provider)) : undefined);
  const got = await started;
  const prefetcher = got instanceof NoisePrefetcher ? got : undefined;
  const noise = prefetcher
    ? `noise drawn ahead in ${prefetcher.threads} worker thread${prefetcher.threads > 1 ? 's' : ''}`
    : typeof got === 'string'
      ? `noise drawn in place (${got})`
      : normals === 0
        ? 'no noise to draw'
        : 'noise drawn in place';

  const iterate: IterationBody = async (k, values, warn) => {
    // Ask for the next iterations before anything else, so the workers draw while this one runs.
    const ahead = prefetcher?.take(k);
    for (let j = k + 1; prefetcher && j <= k + prefetcher.depth && j < K; j++) prefetcher.prefetch(j, requestsOf(j));
    const drawn = await ahead;
    if (prefetcher?.failure) warn(`backend: onnx noise drawn in place from now on (${prefetcher.failure})`);
    const inputs: Record<string, Tensor> = {};
    for (const [name, k2] of hostWires) inputs[name] = values.get(k2) as Tensor;
    for (const { step, lowered } of steps) {
      // Only values outside the graph exist on the host (see steps.ts): constants, registers.
      const ctx = contextOf(plan, step, k, values, warn);
      // Without an answer from the workers (first iteration, a jump in k) the step draws in place.
      const mine = drawn && lowered.noise ? fieldsOf(drawn, step.id) : undefined;
      const feeds = await lowered.feeds(ctx, n, mine);
      for (const [name, t] of Object.entries(feeds)) inputs[feedNames.get(`${step.id}|${name}`)!] = t;
    }
    const result = await session.run(inputs);
    const produced: BodyOutput[] = outputs.map((o) => ({ ...o.at, value: result[o.name]! }));
    // A NaN/Inf surfaces only on the graph's outputs: re-run the iteration node by node in JS so
    // the runtime's check names the node where it first appears (same inputs, same streams).
    if (produced.some((o) => firstNonFinite(o.value) >= 0)) {
      const located = await jsIteration(plan, k, values, warn);
      if (located.some((o) => firstNonFinite(o.value) >= 0)) return { outputs: located, nfe: built.nfe, vjpCalls: built.vjpCalls };
    }
    return { outputs: produced, nfe: built.nfe, vjpCalls: built.vjpCalls };
  };
  return {
    iterate,
    provider: session.provider,
    model: built.model,
    noise,
    ...(prefetcher ? { prefetcher } : {}),
    release: async () => {
      await Promise.all([session.release(), prefetcher?.release()]);
    },
  };
}

/** The fields of `node` in a prefetched `<node>|<feed>` map, by feed name. */
function fieldsOf(drawn: Readonly<Record<string, Tensor>>, node: string): Record<string, Tensor> {
  const prefix = `${node}|`;
  return Object.fromEntries(Object.entries(drawn).flatMap(([name, t]) => (name.startsWith(prefix) ? [[name.slice(prefix.length), t]] : [])));
}

/** What step `step` sees at iteration k, its inputs read from `values`. */
function contextOf(plan: Plan, step: Plan['body'][number], k: number, values: ReadonlyMap<string, Value>, warn: (m: string) => void): StepContext {
  return {
    k,
    node: step.id,
    params: step.params,
    input: (port) => (step.inputs[port] ? values.get(key(step.inputs[port]!)) : undefined),
    rng: () => createRng(plan.seed, stepStream(step.id, k)),
    warn,
  };
}

/** One iteration of `plan` through the JS executors: every step's outputs, in body order. */
async function jsIteration(plan: Plan, k: number, values: ReadonlyMap<string, Value>, warn: (m: string) => void): Promise<BodyOutput[]> {
  const local = new Map(values);
  const out: BodyOutput[] = [];
  for (const step of plan.body) {
    const outs = await jsExecutors[step.kind]!(contextOf(plan, step, k, local, warn));
    for (const [port, value] of Object.entries(outs)) {
      local.set(`${step.id}.${port}`, value);
      out.push({ node: step.id, kind: step.kind, port, value });
      if (firstNonFinite(value) >= 0) return out;
    }
  }
  return out;
}

interface Built {
  model: Uint8Array;
  steps: { step: Plan['body'][number]; lowered: LoweredStep }[];
  /** Graph input name → value key read from the runtime's values each iteration. */
  hostWires: Map<string, string>;
  /** `<node>|<feed>` → graph input name. */
  feedNames: Map<string, string>;
  outputs: { name: string; at: Omit<BodyOutput, 'value'> }[];
  nfe: number;
  vjpCalls: number;
}

/** The fused model of `plan` (exported for tests and tools that save it), or why there is none. */
export function buildFused(plan: Plan): Built | { reason: NotFusable } {
  const g = new GraphBuilder(`iteration.${plan.name}`);
  const inGraph = new Map<string, { name: string; dims: Dim[]; node: string; kind: string; port: string }>();
  const hostWires = new Map<string, string>();
  const feedNames = new Map<string, string>();
  const steps: Built['steps'] = [];
  let nfe = 0,
    vjpCalls = 0;
  for (const step of plan.body) {
    let lowered: LoweredStep | string;
    try {
      lowered = lowerStep(step, plan, 'fused');
    } catch (e) {
      // e.g. a network whose weights live in an external data file, or an unsupported operator domain
      return { reason: { kind: 'not-fusable', node: step.id, why: (e as Error).message.split('\n')[0]!, cause: e } };
    }
    if (typeof lowered === 'string') return { reason: { kind: 'not-fusable', node: step.id, why: lowered } };
    const sig = modelSignature(lowered.model);
    const wires: Record<string, string> = {};
    for (const inp of sig.inputs) {
      const port = lowered.wires[inp.name];
      if (port === undefined) {
        const name = g.input(nameOf(`${step.id}:${inp.name}`), inp.dims);
        feedNames.set(`${step.id}|${inp.name}`, name);
        wires[inp.name] = name;
        continue;
      }
      const ref: PortRef | undefined = step.inputs[port];
      if (!ref) return { reason: { kind: 'not-fusable', node: step.id, why: `input '${port}' is not connected` } };
      const k = key(ref);
      const known = inGraph.get(k);
      if (known) wires[inp.name] = known.name;
      else {
        const name = nameOf(k);
        if (!hostWires.has(name)) {
          g.input(name, inp.dims);
          hostWires.set(name, k);
        }
        wires[inp.name] = name;
      }
    }
    const outs = inlineModelOutputs(g, lowered.model, wires, step.id);
    for (const o of sig.outputs) {
      const port = lowered.outputs[o.name];
      if (port !== undefined) inGraph.set(`${step.id}.${port}`, { name: outs[o.name]!, dims: o.dims, node: step.id, kind: step.kind, port });
    }
    steps.push({ step, lowered });
    nfe += lowered.nfe;
    vjpCalls += lowered.vjpCalls ?? 0;
  }
  const needed = new Set<string>([
    ...plan.states.map((s) => key(s.next)),
    ...plan.previews.map((p) => key(p.source)),
    ...(plan.metrics ? [key(plan.metrics.source)] : []),
    ...(plan.output ? [key(plan.output)] : []),
  ]);
  const outputs: Built['outputs'] = [];
  for (const k of needed) {
    const v = inGraph.get(k);
    if (!v) continue; // a register or constant: the runtime already holds it
    const name = `out:${nameOf(k)}`;
    g.output(v.name, name, v.dims);
    outputs.push({ name, at: { node: v.node, kind: v.kind, port: v.port } });
  }
  if (outputs.length === 0) return { reason: { kind: 'not-fusable', why: 'the body produces nothing the run reads' } };
  return { model: g.toBytes(`one iteration of ${plan.name} (onnx/fused.ts)`), steps, hostWires, feedNames, outputs, nfe, vjpCalls };
}
