/**
 * compile(graph) → Plan: validate, split the graph into what is computed once (images, operators,
 * measurement, prior, schedule) and the per-iteration body (everything downstream of a State),
 * order the body topologically with cycles broken at State `next` inputs, and collect the loop
 * registers, previews, metrics and the output.
 */
import { createHash } from 'node:crypto';
import type { GraphDocument, GraphNode } from '../graph/format';
import { checkSet } from '../graph/set';
import { validateGraph } from '../graph/validate';
import type { ValidationResult } from '../graph/validate';
import { resolveSpaces } from '../graph/spaces';
import {
  denoise,
  isLoopEdge,
  metrics as metricsKind,
  nodeKind,
  operatorTask,
  output as outputKind,
  preview as previewKind,
  roleOf,
  latentScoreModel,
  scoreModel,
  simulate,
  zUpdate,
} from '../../nodes';
import type { NodeKind, NodeRole, PortType } from '../../nodes';
import { LIMITS } from '../../protocol/limits';
import { layers, mergedParams } from '../../protocol/params';
import type { ParamTable, Selection } from '../../protocol/params';
import type { MeasurementValue } from '../kernels/updates';
import type { ScoreModel } from '../priors/types';
import type { BodyStep, Plan, PortRef, PreviewSpec, StateSpec, Value } from './plan';
import { key } from './plan';
import { latentGraphProblems, latentShapeOf } from './latentChecks';
import { splitTaps } from './taps';
import { CompileError, evalLpips, evalResource, evalStatic, latentImageShape, paramsOf, priorImageShape } from './resources';
import type { ResolvedSchedule } from './schedule';

export { CompileError } from './resources';

/** Run-time overrides of the graph's own settings. */
export interface CompileOptions {
  /** Iterations K (overrides every Schedule node; default: the graph's run.iterations, else each Schedule's own). */
  iterations?: number;
  /** Run seed (default: the graph's run.seed). */
  seed?: number;
  /** Batch size N: posterior samples drawn together (default 1). */
  samples?: number;
  /** Apply the graph's `profile:<name>` overrides (e.g. DAPS-4K; default: the graph's run.profile). */
  profile?: string;
  /** Per-run parameter values, node id → parameter → value; they win over task and profile overrides. */
  set?: ParamTable;
}

/**
 * The document with the selection's layers merged into node parameters: `task:<task>`, then
 * `profile:<profile>`, then per-run values (`set`). Task and profile overrides may only touch nodes
 * evaluated after the measurement (prior, schedule, loop body) and the simulated operator (whose
 * task is its kind, so its overrides are merged before it is evaluated); per-run values are applied
 * to the document before anything is evaluated as well, so they may set any node.
 */
export function applyOverrides(doc: GraphDocument, sel: Selection, frozen: ReadonlySet<string>): GraphDocument {
  const { profile } = sel;
  if (profile !== undefined && !doc.overrides[`profile:${profile}`]) {
    const known = Object.keys(doc.overrides)
      .filter((k) => k.startsWith('profile:'))
      .map((k) => k.slice(8));
    throw new CompileError(`graph "${doc.name}" has no profile '${profile}'; profiles: ${known.join(', ') || 'none'}`);
  }
  for (const [layer] of layers(doc, sel).slice(1)) {
    if (layer === 'set') continue;
    for (const id of Object.keys(doc.overrides[layer] ?? {})) {
      const n = doc.nodes.find((m) => m.id === id);
      if (!n) throw new CompileError(`overrides: no node "${id}" in graph "${doc.name}"`);
      if (frozen.has(id))
        throw new CompileError(`overrides: node "${id}" (${n.kind}) is evaluated before the task is known; only prior, schedule and per-iteration nodes can be overridden`, id);
    }
  }
  const merged = mergedParams(doc, sel);
  return { ...doc, nodes: doc.nodes.map((n) => ({ ...n, params: { ...merged[n.id] } })) };
}

/** Roles whose nodes are not body steps: registers, sinks and pure routing. */
const NOT_STEPS: ReadonlySet<NodeRole> = new Set(['state', 'route', 'sink']);
const isMeasurement = (v: Value | undefined): v is MeasurementValue => !!v && typeof v === 'object' && 'op' in v && 'sigmaY' in v;

/** Compiles a validated graph document into an executable {@link Plan}. */
export async function compile(graph: GraphDocument, opts: CompileOptions = {}): Promise<Plan> {
  if (opts.set) checkSet(graph, opts.set);
  // Per-run values reach the nodes evaluated before the task is known too (image, operator, σ_y).
  const base = opts.set ? applyOverrides(graph, { set: opts.set }, new Set()) : graph;
  let doc = base;
  const profile = opts.profile ?? doc.run.profile;
  const v = validateGraph(doc);
  if (!v.ok) refuse(doc, v);
  const seed = opts.seed ?? doc.run.seed;
  const samples = opts.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1 || samples > LIMITS.samples) throw new CompileError(`samples must be an integer from 1 to ${LIMITS.samples}, got ${samples}`);
  const K = opts.iterations;
  if (K !== undefined && (!Number.isInteger(K) || K < 1 || K > LIMITS.iterations)) throw new CompileError(`iterations must be an integer from 1 to ${LIMITS.iterations}, got ${K}`);

  const nodes = new Map(doc.nodes.map((n) => [n.id, n]));
  const incoming = new Map<string, PortRef>(); // `<target>.<port>` → source
  const edgesInto = new Map<string, GraphDocument['edges']>();
  for (const e of doc.edges) {
    incoming.set(`${e.target}.${e.targetPort}`, { node: e.source, port: e.sourcePort });
    const list = edgesInto.get(e.target);
    if (list) list.push(e);
    else edgesInto.set(e.target, [e]);
  }
  const inputsOf = (n: GraphNode): Record<string, PortRef> => Object.fromEntries((edgesInto.get(n.id) ?? []).map((e) => [e.targetPort, { node: e.source, port: e.sourcePort }]));

  // A Result node only routes: every reference to it becomes a reference to the input it returns.
  const route = (r: PortRef): PortRef => {
    let ref = r;
    for (let hops = 0; nodes.has(ref.node) && roleOf(nodes.get(ref.node)!.kind) === 'route'; hops++) {
      const n = nodes.get(ref.node)!;
      const pick = nodeKind(n.kind)!.route!(paramsOf(n));
      const from = incoming.get(`${n.id}.${pick}`);
      if (!from || hops > nodes.size) throw new CompileError(`node "${n.id}" (${n.kind}): returns '${pick}' but nothing is connected to '${pick}'`, n.id);
      ref = from;
    }
    return ref;
  };
  const routed = (refs: Record<string, PortRef>): Record<string, PortRef> => Object.fromEntries(Object.entries(refs).map(([p, r]) => [p, route(r)]));
  const into = (id: string, port: string): PortRef | undefined => {
    const r = incoming.get(`${id}.${port}`);
    return r && route(r);
  };

  // Dynamic = State nodes and everything downstream of one (edges into State.next end the walk);
  // a breadth-first walk, linear in the edges however long the chains are.
  const downstream = new Map<string, string[]>();
  for (const e of doc.edges) {
    if (isLoopEdge(nodes.get(e.target)!.kind, e.targetPort)) continue;
    const list = downstream.get(e.source);
    if (list) list.push(e.target);
    else downstream.set(e.source, [e.target]);
  }
  const dynamic = new Set(doc.nodes.filter((n) => roleOf(n.kind) === 'state').map((n) => n.id));
  for (const queue = [...dynamic]; queue.length;) {
    for (const t of downstream.get(queue.pop()!) ?? []) {
      if (!dynamic.has(t)) {
        dynamic.add(t);
        queue.push(t);
      }
    }
  }
  const order = topoOrder(doc);

  // Static values: images, operators and the measurement first, then priors, then schedules.
  const constants = new Map<string, Value>();
  const get = (r: PortRef | undefined): Value | undefined => (r ? constants.get(key(r)) : undefined);
  const put = (id: string, values: Record<string, Value>): void => {
    for (const [port, val] of Object.entries(values)) constants.set(`${id}.${port}`, val);
  };
  const notes: string[] = []; // what loading did to the user's inputs (an image converted to fit the prior)
  const role = (id: string): NodeRole => roleOf(nodes.get(id)!.kind);
  const statics = order.filter((id) => !dynamic.has(id) && role(id) !== 'sink' && role(id) !== 'route');
  // A learned prior fixes the image shape: images are loaded at its size and channel count.
  const fit = doc.nodes
    .map((n) => (n.kind === scoreModel.kind ? priorImageShape(n) : n.kind === latentScoreModel.kind ? latentImageShape(n) : undefined))
    .find((s) => s !== undefined);
  // The simulated operator's own overrides (e.g. phase retrieval's input range in DDiff's
  // convention) apply before anything is evaluated: its task is its kind, known from the graph.
  const early = simulatedOperator(doc);
  if (early)
    nodes.set(early.id, {
      ...nodes.get(early.id)!,
      params: mergedParams(graph, { task: early.task, ...(profile !== undefined ? { profile } : {}), ...(opts.set ? { set: opts.set } : {}) })[early.id] ?? {},
    });
  for (const id of statics) {
    const n = nodes.get(id)!;
    if (role(id) === 'resource') continue; // after the measurement, with the task's overrides
    put(
      id,
      await evalStatic(
        n,
        (port) => get(into(id, port)),
        seed,
        fit,
        (m) => notes.push(m),
      ),
    );
  }
  const measurements = [...constants.values()].filter(isMeasurement);
  if (measurements.length !== 1) {
    throw new CompileError(`a solver graph needs exactly one measurement (Simulate or MeasurementInput), found ${measurements.length}`);
  }
  const measurement = measurements[0]!;
  const imageShape = measurement.op.inShape;
  const latentIssues = latentGraphProblems(doc, imageShape);
  if (latentIssues.length) throw new CompileError(latentIssues.map((i) => i.message).join('\n'), latentIssues[0]!.nodeId);

  // The task is known now: merge its overrides (and the profile's), then re-check the parameters.
  doc = applyOverrides(
    base,
    { task: measurement.op.id, ...(profile !== undefined ? { profile } : {}), ...(opts.set ? { set: opts.set } : {}) },
    new Set(statics.filter((i) => role(i) !== 'resource' && i !== early?.id)),
  );
  const v2 = validateGraph(doc);
  if (!v2.ok) refuse(doc, v2);
  for (const n of doc.nodes) nodes.set(n.id, n);
  // In graph order, so a schedule follows the prior it reads.
  for (const id of statics.filter((i) => role(i) === 'resource'))
    put(id, await evalResource(nodes.get(id)!, (port) => get(into(id, port)), imageShape, opts.iterations ?? doc.run.iterations));
  // The plan's prior and schedule: the resources' outputs of those port types.
  const resources = (type: PortType): Value[] =>
    doc.nodes
      .filter((n) => roleOf(n.kind) === 'resource')
      .flatMap((n) =>
        nodeKind(n.kind)!
          .outputs.filter((o) => o.type === type)
          .map((o) => constants.get(`${n.id}.${o.name}`)!),
      );
  const priors = resources('prior') as ScoreModel[];
  const schedules = resources('schedule') as ResolvedSchedule[];
  if (priors.length === 0 || schedules.length === 0) throw new CompileError('a solver graph needs a ScoreModel (or LatentScoreModel) and a Schedule');
  if (new Set(schedules.map((s) => s.K)).size > 1) {
    throw new CompileError(`all Schedule nodes must have the same number of iterations, got ${schedules.map((s) => s.K).join(', ')}`);
  }
  checkLearnedVariance(doc, incoming, (id) => constants.get(`${id}.prior`) as ScoreModel | undefined);

  // Per-iteration body, loop registers and taps. A step or State whose anySpace ports carry
  // latents (spaces.ts) is marked so; a latent State's shape is the graph's autoencoder's latent
  // shape, read from its cards rather than declared on the State: the wiring already says the State
  // is a latent, and a second statement of its shape could only disagree with the networks.
  const spaces = resolveSpaces(doc);
  const latentShape = latentShapeOf(doc);
  const inLatent = (id: string): boolean => {
    const k = nodeKind(nodes.get(id)!.kind)!;
    return spaces.of(id) === 'latent' && [...k.inputs, ...k.outputs].some((p) => p.anySpace);
  };
  const steps: BodyStep[] = order
    .filter((id) => dynamic.has(id) && !NOT_STEPS.has(role(id)))
    .map((id) => ({
      id,
      kind: nodes.get(id)!.kind,
      params: paramsOf(nodes.get(id)!),
      inputs: routed(inputsOf(nodes.get(id)!)),
      ...(inLatent(id) ? { space: 'latent' as const } : {}),
    }));
  const states: StateSpec[] = doc.nodes
    .filter((n) => roleOf(n.kind) === 'state')
    .map((n) => {
      const p = paramsOf(n);
      const initFrom = into(n.id, 'init');
      if (p.init === 'input' && !initFrom) throw new CompileError(`node "${n.id}" (State): init "input" needs its 'init' input connected`, n.id);
      const latent = inLatent(n.id);
      if (latent && p.init === 'adjoint')
        throw new CompileError(`node "${n.id}" (State) holds a latent, but init "adjoint" gives the image Aᵀy; use zeros, noise, or input (e.g. an Encoder of an image)`, n.id);
      if (latent && !latentShape) throw new CompileError(`node "${n.id}" (State) holds a latent, but the graph has no latent node whose cards give the latent's shape`, n.id);
      return {
        id: n.id,
        name: p.name as string,
        init: p.init as StateSpec['init'],
        noiseScale: p.noiseScale as number,
        shape: latent ? latentShape! : imageShape,
        ...(latent ? { space: 'latent' as const } : {}),
        next: into(n.id, nodeKind(n.kind)!.loopInput!)!,
        ...(initFrom ? { initFrom } : {}),
      };
    });
  const sink = (kind: NodeKind): GraphNode[] => doc.nodes.filter((n) => n.kind === kind.kind);
  const previews: PreviewSpec[] = sink(previewKind).map((n) => {
    const p = paramsOf(n);
    return { id: n.id, label: (p.label as string) || n.id, every: p.every as number, range: (p.range as 'signal' | 'auto') ?? 'signal', source: into(n.id, 'image')! };
  });
  const outputNode = sink(outputKind)[0];
  const metricsNode = sink(metricsKind)[0];
  const lpips = metricsNode ? await evalLpips(metricsNode, imageShape) : undefined;
  const sinkRefs = [...previews.map((p) => p.source), ...(outputNode ? [into(outputNode.id, 'image')!] : []), ...(metricsNode ? [into(metricsNode.id, 'image')!] : [])];
  const { body, taps } = splitTaps(steps, states, sinkRefs);

  return {
    name: doc.name,
    // Of what determines the numbers: the nodes with every layer merged in, not the override tables
    // they came from (nor the references, profile name or backend), so equal runs hash equal.
    hash: createHash('sha256')
      .update(JSON.stringify({ ...doc, overrides: undefined, reference: undefined, run: { ...doc.run, backend: undefined, profile: undefined } }))
      .digest('hex'),
    seed,
    samples,
    imageShape,
    measurement,
    prior: priors[0]!,
    schedule: schedules[0]!,
    constants,
    states,
    body,
    taps,
    ...(outputNode ? { output: into(outputNode.id, 'image')! } : {}),
    previews,
    ...(metricsNode ? { metrics: { source: into(metricsNode.id, 'image')!, every: paramsOf(metricsNode).every as number } } : {}),
    ...(lpips ? { lpips } : {}),
    warnings: [...notes, ...v2.warnings.map((w) => w.message)],
    // The simulated operator's are its instance's, with the size-scaled defaults filled in.
    effectiveParams: Object.fromEntries(doc.nodes.map((n) => [n.id, n.id === early?.id ? { ...measurement.op.params } : paramsOf(n)])),
    ...(profile !== undefined ? { profile } : {}),
  };
}

/**
 * Throws the validator's errors as one CompileError; an edge between a latent and an image port
 * is reported with both shapes from the latent cards (latentChecks.ts) instead of types alone.
 */
function refuse(doc: GraphDocument, v: ValidationResult): never {
  let latent: ReturnType<typeof latentGraphProblems> = [];
  try {
    latent = latentGraphProblems(doc).filter((i) => i.path !== undefined);
  } catch {
    // a document too broken for the latent checks: the validator's messages say why
  }
  const covered = new Set(latent.map((i) => i.path));
  const lines = [...latent.map((i) => i.message), ...v.errors.filter((e) => !covered.has(e.path)).map((e) => `${e.path}: ${e.message}`)];
  throw new CompileError(lines.join('\n'), latent[0]?.nodeId ?? v.errors[0]?.nodeId);
}

/**
 * ZUpdate's variance "learned" needs v from a Denoise whose prior has learned variance: refused
 * here, before the run, naming the node (the kernel checks again per iteration).
 */
function checkLearnedVariance(doc: GraphDocument, incoming: ReadonlyMap<string, PortRef>, priorOf: (id: string) => ScoreModel | undefined): void {
  for (const n of doc.nodes.filter((m) => m.kind === zUpdate.kind && paramsOf(m).variance === 'learned')) {
    const v = incoming.get(`${n.id}.v`);
    const source = v && doc.nodes.find((m) => m.id === v.node);
    if (!v || source?.kind !== denoise.kind || v.port !== 'v')
      throw new CompileError(`node "${n.id}" (ZUpdate): variance "learned" needs its 'v' input wired from a Denoise node's 'v' output`, n.id);
    const p = incoming.get(`${source.id}.prior`);
    const prior = p && priorOf(p.node);
    if (prior && !prior.predictEpsVariance)
      throw new CompileError(
        `node "${n.id}" (ZUpdate): variance "learned" needs a prior with learned variance (an ADM learn_sigma network whose card sets outputs.learnedVariance); ${prior.id} has none — use variance "fixed"`,
        n.id,
      );
  }
}

/** The operator node wired into the graph's Simulate node, with the task it builds; undefined without one. */
function simulatedOperator(doc: GraphDocument): (GraphNode & { task: string }) | undefined {
  const sim = doc.nodes.find((n) => n.kind === simulate.kind);
  const edge = sim && doc.edges.find((e) => e.target === sim.id && e.targetPort === 'operator');
  const op = edge && doc.nodes.find((n) => n.id === edge.source);
  const task = op && operatorTask(op.kind);
  return op && task ? { ...op, task } : undefined;
}

/** Node ids in an order where every node follows its inputs, ignoring edges into State.next. */
function topoOrder(doc: GraphDocument): string[] {
  const kindOf = new Map(doc.nodes.map((n) => [n.id, n.kind]));
  const indeg = new Map(doc.nodes.map((n) => [n.id, 0]));
  const out = new Map<string, string[]>();
  for (const e of doc.edges) {
    if (isLoopEdge(kindOf.get(e.target)!, e.targetPort)) continue;
    indeg.set(e.target, indeg.get(e.target)! + 1);
    const list = out.get(e.source);
    if (list) list.push(e.target);
    else out.set(e.source, [e.target]);
  }
  // Kahn's algorithm in document order, so the body order is stable and readable; a read index
  // instead of shift() keeps it linear.
  const ready = doc.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  for (let next = 0; next < ready.length;) {
    const id = ready[next++]!;
    order.push(id);
    for (const t of out.get(id) ?? []) {
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) ready.push(t);
    }
  }
  return order;
}
