/**
 * Edits a host applies to a graph before running it: point it at another measurement (a bundle
 * on disk, or a task simulated on an image) or another prior. Pure functions over documents.
 */
import { nodeKindOrigin, operatorNodeKinds } from '../../nodes/index';
import { editLayer, writeParam } from '../../protocol/params';
import type { ParamTable, Selection } from '../../protocol/params';
import type { GraphDocument, GraphNode } from './format';

/** Where the measurement comes from. */
export type MeasurementSource = { kind: 'bundle'; path: string } | { kind: 'simulate'; task?: string; image?: string; size?: number; sigma?: number };

/** Raised when an edit does not fit the graph; names what is missing. */
export class GraphEditError extends Error {
  override name = 'GraphEditError';
}

const clone = (doc: GraphDocument): GraphDocument => JSON.parse(JSON.stringify(doc)) as GraphDocument;

function measurementNode(doc: GraphDocument): GraphNode {
  const found = doc.nodes.filter((n) => n.kind === 'Simulate' || n.kind === 'MeasurementInput');
  if (found.length !== 1) throw new GraphEditError(`graph "${doc.name}" must have exactly one Simulate or MeasurementInput node to replace its measurement, found ${found.length}`);
  return found[0]!;
}

/** Removes nodes that only fed `id` (transitively) and their edges. */
function pruneUpstream(doc: GraphDocument, id: string): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const n of [...doc.nodes]) {
      const outs = doc.edges.filter((e) => e.source === n.id);
      if (n.id !== id && outs.length > 0 && outs.every((e) => e.target === id)) {
        doc.nodes = doc.nodes.filter((m) => m.id !== n.id);
        doc.edges = doc.edges.filter((e) => e.source !== n.id && e.target !== n.id);
        changed = true;
      }
    }
  }
}

/** The graph with its measurement taken from `src`. */
export function withMeasurement(base: GraphDocument, src: MeasurementSource): GraphDocument {
  const doc = clone(base);
  const m = measurementNode(doc);
  if (src.kind === 'bundle') {
    pruneUpstream(doc, m.id); // while the edges into m still say what fed only the simulation
    doc.edges = doc.edges.filter((e) => e.target !== m.id);
    // The bundle fixes its operator: the removed nodes' overrides (e.g. a phase-retrieval input
    // range) no longer apply; the bundle's operator parameters are what the run reports.
    const kept = new Set(doc.nodes.map((n) => n.id));
    for (const [layer, table] of Object.entries(doc.overrides)) {
      for (const id of Object.keys(table)) if (!kept.has(id)) delete table[id];
      if (Object.keys(table).length === 0) delete doc.overrides[layer];
    }
    m.kind = 'MeasurementInput';
    m.params = { path: src.path };
    return doc;
  }
  if (m.kind !== 'Simulate') throw new GraphEditError(`graph "${doc.name}" reads a measurement file; give a measurement directory instead of --task/--image`);
  if (src.sigma !== undefined) m.params.sigma = src.sigma;
  const upstream = (port: string): GraphNode => {
    const e = doc.edges.find((x) => x.target === m.id && x.targetPort === port);
    const n = e && doc.nodes.find((x) => x.id === e.source);
    if (!n) throw new GraphEditError(`graph "${doc.name}": the Simulate node has nothing on '${port}'`);
    return n;
  };
  if (src.task !== undefined) {
    // Plugin operators' node kinds are in this list once their plugins are loaded.
    const kinds = operatorNodeKinds();
    const spec = kinds.find((k) => k.task === src.task);
    if (!spec) throw new GraphEditError(`unknown task '${src.task}'; tasks: ${kinds.map((k) => k.task).join(', ')}`);
    const op = upstream('operator');
    op.kind = spec.kind;
    op.params = {};
    const origin = nodeKindOrigin(spec.kind);
    if (origin && origin !== 'builtin') op.plugin = origin;
    else delete op.plugin;
  }
  if (src.image !== undefined || src.size !== undefined) {
    const img = upstream('image');
    if (img.kind !== 'ImageInput') throw new GraphEditError(`graph "${doc.name}": the Simulate image does not come from an ImageInput node`);
    if (src.image !== undefined) img.params.source = src.image;
    if (src.size !== undefined) img.params.size = src.size;
  }
  return doc;
}

/**
 * The graph with its simulated operator replaced by the ONNX operator folder `path`: the node on
 * the Simulate node's `operator` input becomes an OnnxOperator node on that folder. The run's task
 * is then `onnx-operator`, so the graph's overrides for other tasks no longer apply
 * ({@link inactiveTaskOverrides} names them).
 */
export function withOperator(base: GraphDocument, path: string): GraphDocument {
  const doc = clone(base);
  const m = measurementNode(doc);
  if (m.kind !== 'Simulate')
    throw new GraphEditError(`graph "${doc.name}" reads a measurement file; an operator folder needs a simulated measurement (give --image instead of --measurement)`);
  const e = doc.edges.find((x) => x.target === m.id && x.targetPort === 'operator');
  const op = e && doc.nodes.find((x) => x.id === e.source);
  if (!op) throw new GraphEditError(`graph "${doc.name}": the Simulate node has nothing on 'operator'`);
  op.kind = 'OnnxOperator';
  op.params = { path };
  delete op.plugin;
  return doc;
}

/** The graph's `task:<id>` override layers that a run of task `task` does not apply. */
export function inactiveTaskOverrides(doc: GraphDocument, task: string): string[] {
  return Object.keys(doc.overrides).filter((k) => k.startsWith('task:') && k !== `task:${task}`);
}

/**
 * The graph with every ScoreModel set to `prior`: gaussian, gmm, a bundled model name, or a model
 * folder. A learned prior fixes the image size, so ImageInput sizes are cleared to follow it.
 */
export function withPrior(base: GraphDocument, prior: string, looksLikePath: boolean): GraphDocument {
  const doc = clone(base);
  const models = doc.nodes.filter((n) => n.kind === 'ScoreModel');
  if (models.length === 0) throw new GraphEditError(`graph "${doc.name}" has no ScoreModel node`);
  for (const n of models) {
    if (prior === 'gaussian' || prior === 'gmm') n.params = { ...n.params, source: prior };
    else n.params = { ...n.params, source: looksLikePath ? 'onnx' : 'bundled', model: prior };
  }
  if (prior !== 'gaussian' && prior !== 'gmm') {
    for (const n of doc.nodes.filter((m) => m.kind === 'ImageInput')) delete n.params.size;
  }
  return doc;
}

/** The graph with every network ScoreModel forced onto one execution provider (`auto` tries them in order). */
export function withProvider(base: GraphDocument, provider: string): GraphDocument {
  const doc = clone(base);
  for (const n of doc.nodes.filter((m) => m.kind === 'ScoreModel')) n.params = { ...n.params, provider };
  return doc;
}

/** The graph set to run on an iteration backend (`run.backend`; js clears it, the default). */
export function withBackend(base: GraphDocument, backend: 'js' | 'onnx'): GraphDocument {
  const doc = clone(base);
  if (backend === 'js') delete doc.run.backend;
  else doc.run.backend = backend;
  return doc;
}

/**
 * The graph with per-run values made part of it: each written into the layer that supplies that
 * parameter under the selection (the task's override where there is one, else the node), so the
 * document alone runs as the run with `--set` did.
 */
export function withValues(base: GraphDocument, values: ParamTable | undefined, sel: Omit<Selection, 'set'>): GraphDocument {
  const doc = clone(base);
  if (sel.profile !== undefined) doc.run.profile = sel.profile;
  for (const [id, params] of Object.entries(values ?? {})) {
    for (const [param, value] of Object.entries(params)) writeParam(doc, editLayer(doc, sel, id, param), id, param, value);
  }
  return doc;
}
