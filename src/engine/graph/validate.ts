/**
 * Static checks of a graph document before compiling: known kinds, parameters, edges between
 * existing ports of compatible types, one edge per input, required inputs connected, cycles only
 * through a State's `next`, and the capabilities nodes need from the operators and priors wired
 * into them. Every issue names the node (id and kind) and the JSON path.
 */
import { isLoopEdge, nodeKind, nodeKinds, operatorTask } from '../../nodes/index';
import type { NodeKind, PortSpec, Requirement } from '../../nodes/index';
import { operatorCapabilities } from '../operators/cgProx';
import { operatorSpec } from '../operators/registry';
import { pluginReport } from '../plugin/load';
import type { GraphDocument, GraphEdge, GraphNode } from './format';
import { shownValue } from '../../protocol/limits';
import { describeIssues } from './format';
import { allowedText, paramNames, paramSchema } from './set';
import { portTypesMeet, resolveSpaces } from './spaces';

/** One problem found in a graph. */
export interface GraphIssue {
  /** JSON path, e.g. `nodes[3].params.iterations` or `edges[2]`. */
  path: string;
  nodeId?: string;
  message: string;
}

/** Result of {@link validateGraph}. */
export interface ValidationResult {
  ok: boolean;
  errors: GraphIssue[];
  /** Accepted with a stated substitution (e.g. a prox replaced by a linearized step). */
  warnings: GraphIssue[];
}

const label = (n: GraphNode): string => `node "${n.id}" (${n.kind})`;
/** A key from the document, cut short for a path. */
const shownKey = (k: string): string => (k.length > 60 ? `${k.slice(0, 60)}…` : k);

/**
 * Why a node's kind is unknown: the plugin it names is not loaded (or was refused, or does not
 * declare it), or — without a `plugin` field — no loaded plugin declares it.
 */
function unknownKind(node: GraphNode): string {
  const plugins = pluginReport();
  const loaded = plugins.filter((p) => p.status === 'loaded').map((p) => p.name);
  if (node.plugin !== undefined) {
    const record = plugins.find((p) => p.name === node.plugin);
    const hint = 'put it in ~/.lagrange/plugins or pass --plugin <dir>';
    if (!record) return `${label(node)} comes from plugin '${node.plugin}', which is not loaded; ${hint}`;
    if (record.status === 'refused') return `${label(node)} comes from plugin '${node.plugin}', which was refused (${record.reason}); fix it or ${hint}`;
    const kinds = [...record.registered.operators.map((o) => o.nodeKind), ...record.registered.nodeKinds];
    return `${label(node)} comes from plugin '${node.plugin}' ${record.version ?? ''}, which declares no kind '${node.kind}' (it declares ${kinds.join(', ') || 'none'}); install the version the graph was made with`;
  }
  const known = nodeKinds()
    .map((k) => k.kind)
    .join(', ');
  return `${label(node)}: unknown node kind '${node.kind}'; no loaded plugin declares it (plugins loaded: ${loaded.join(', ') || 'none'}); known kinds: ${known}`;
}

/** Validates `doc`; never throws for problems in the document. */
export function validateGraph(doc: GraphDocument): ValidationResult {
  const errors: GraphIssue[] = [];
  const warnings: GraphIssue[] = [];
  const byId = new Map<string, { node: GraphNode; index: number; kind: NodeKind | undefined }>();

  doc.nodes.forEach((node, index) => {
    const path = `nodes[${index}]`;
    if (byId.has(node.id)) errors.push({ path: `${path}.id`, nodeId: node.id, message: `duplicate node id "${node.id}"` });
    const kind = nodeKind(node.kind);
    byId.set(node.id, { node, index, kind });
    if (!kind) {
      errors.push({ path: `${path}.kind`, nodeId: node.id, message: unknownKind(node) });
      return;
    }
    // A parameter the kind does not declare would be dropped by the schema: say so instead.
    const declared = paramNames(kind);
    for (const p of Object.keys(node.params)) {
      if (declared.length && !declared.includes(p))
        errors.push({ path: `${path}.params.${shownKey(p)}`, nodeId: node.id, message: `${label(node)} has no parameter '${shownKey(p)}'; parameters: ${declared.join(', ')}` });
    }
    const parsed = kind.params.safeParse(node.params);
    if (!parsed.success) {
      for (const line of describeIssues(node.params, parsed.error.issues, ['nodes', index, 'params'], kind.params)) {
        const colon = line.indexOf(': ');
        errors.push({ path: line.slice(0, colon), nodeId: node.id, message: `${line.slice(colon + 2)} (${label(node)})` });
      }
    }
  });

  checkOverrides(doc, byId, errors);

  // Edges: endpoints, ports, types, one edge per input.
  const into = new Map<string, GraphEdge>(); // `${target}.${port}` → edge
  doc.edges.forEach((e, i) => {
    const path = `edges[${i}]`;
    const src = byId.get(e.source),
      dst = byId.get(e.target);
    if (!src || !dst) {
      errors.push({ path, message: `edge ${e.source}.${e.sourcePort} → ${e.target}.${e.targetPort}: no node "${!src ? e.source : e.target}"` });
      return;
    }
    if (!src.kind || !dst.kind) {
      // An edge from a node of unknown kind still connects its target: report the kind once, not also the input.
      if (dst.kind?.inputs.some((p) => p.name === e.targetPort)) into.set(`${e.target}.${e.targetPort}`, e);
      return;
    }
    const out = src.kind.outputs.find((p) => p.name === e.sourcePort);
    const inp = dst.kind.inputs.find((p) => p.name === e.targetPort);
    if (!out) {
      errors.push({ path: `${path}.sourcePort`, nodeId: e.source, message: `${label(src.node)} has no output '${e.sourcePort}'; outputs: ${portList(src.kind.outputs)}` });
    }
    if (!inp) {
      errors.push({ path: `${path}.targetPort`, nodeId: e.target, message: `${label(dst.node)} has no input '${e.targetPort}'; inputs: ${portList(dst.kind.inputs)}` });
    }
    if (!out || !inp) return;
    if (!portTypesMeet(out, inp)) {
      errors.push({ path, nodeId: e.target, message: `${label(src.node)} output '${out.name}' is ${out.type} but ${label(dst.node)} input '${inp.name}' expects ${inp.type}` });
      return;
    }
    const key = `${e.target}.${e.targetPort}`;
    if (into.has(key)) errors.push({ path, nodeId: e.target, message: `${label(dst.node)} input '${inp.name}' has more than one incoming edge` });
    into.set(key, e);
  });

  // Latents and images: the anySpace ports of each node in one space (spaces.ts).
  for (const issue of resolveSpaces(doc).issues) errors.push(issue);

  // Required inputs.
  for (const { node, index, kind } of byId.values()) {
    if (!kind) continue;
    for (const p of kind.inputs) {
      if (!p.optional && !into.has(`${node.id}.${p.name}`)) {
        errors.push({ path: `nodes[${index}]`, nodeId: node.id, message: `${label(node)}: input '${p.name}' (${p.type}) is not connected` });
      }
    }
  }

  // Cycles are legal only through a State's `next`: the graph without those edges must be acyclic.
  const cycle = findCycle(doc, byId);
  if (cycle) {
    errors.push({ path: 'edges', nodeId: cycle[0], message: `cycle ${cycle.join(' → ')} does not pass through a State node's 'next' input; loop variables must be State nodes` });
  }

  // Capabilities of the operators and priors wired into nodes that need them.
  for (const { node, index, kind } of byId.values()) {
    if (!kind?.requires) continue;
    const params = kind.params.safeParse(node.params);
    const p = params.success ? params.data : node.params;
    for (const req of kind.requires) {
      if (req.when && !req.when(p)) continue;
      const problem = missingCapability(req, into.get(`${node.id}.${req.port}`), byId, into);
      if (!problem) continue;
      const message = `${label(node)} needs ${req.capability} on '${req.port}', but ${problem}`;
      if (req.fallback) warnings.push({ path: `nodes[${index}]`, nodeId: node.id, message: `${message}; using ${req.fallback}` });
      else errors.push({ path: `nodes[${index}]`, nodeId: node.id, message });
    }
  }
  return { ok: errors.length === 0, errors, warnings };
}

/** The operator node kind that builds `task`, or undefined. */
const taskKind = (task: string): NodeKind | undefined => nodeKinds().find((k) => operatorTask(k.kind) === task);

/** Every override names an existing node and a parameter of its kind, with a value its schema accepts. */
function checkOverrides(doc: GraphDocument, byId: Index, errors: GraphIssue[]): void {
  for (const [selector, table] of Object.entries(doc.overrides)) {
    for (const [id, params] of Object.entries(table)) {
      const path = `overrides.${selector}.${id}`;
      const entry = byId.get(id);
      if (!entry) {
        errors.push({ path, message: `overrides "${selector}": no node "${id}" in the graph; nodes: ${[...byId.keys()].join(', ')}` });
        continue;
      }
      // An operator node's task override applies when the node builds that task: check it against that kind.
      const kind = operatorTask(entry.node.kind) !== undefined && selector.startsWith('task:') ? (taskKind(selector.slice(5)) ?? entry.kind) : entry.kind;
      if (!kind) continue; // reported as an unknown kind already
      const who = kind === entry.kind ? label(entry.node) : `node "${id}" as ${kind.kind} (task ${selector.slice(5)})`;
      for (const [param, value] of Object.entries(params)) {
        const schema = paramSchema(kind, param);
        if (!schema)
          errors.push({ path: `${path}.${param}`, nodeId: id, message: `overrides "${selector}": ${who} has no parameter '${param}'; parameters: ${paramNames(kind).join(', ')}` });
        else if (!schema.safeParse(value).success)
          errors.push({
            path: `${path}.${param}`,
            nodeId: id,
            message: `overrides "${selector}": ${who} parameter '${param}' must be ${allowedText(schema)}, got ${shownValue(value)}`,
          });
      }
    }
  }
}

const portList = (ports: readonly PortSpec[]): string => ports.map((p) => `${p.name} (${p.type})`).join(', ') || 'none';

type Index = Map<string, { node: GraphNode; index: number; kind: NodeKind | undefined }>;

/** Why the operator/prior upstream of `edge` lacks the capability, or undefined when it has it (or it is only known at load). */
function missingCapability(req: Requirement, edge: GraphEdge | undefined, byId: Index, into: ReadonlyMap<string, GraphEdge>): string | undefined {
  if (!edge) return undefined; // reported as unconnected already
  let src = byId.get(edge.source)?.node;
  if (!src) return undefined;
  // Every ScoreModel has a denoiser VJP: analytic priors in closed form, networks by reverse mode
  // (vjp "exact") or central differences (vjp "symmetric-fd").
  if (req.capability === 'denoiseVjp') return undefined;
  // Follow a measurement back to its operator: Simulate takes one on its `operator` input.
  if (src.kind === 'Simulate') {
    const opEdge = into.get(`${src.id}.operator`);
    src = opEdge ? byId.get(opEdge.source)?.node : undefined;
    if (!src) return undefined;
  }
  const task = operatorTask(src.kind);
  if (!task) return undefined; // MeasurementInput: the operator is known when the bundle is loaded
  // With the registry's additions: a linear operator with an adjoint has the CG proxL2.
  const caps = operatorCapabilities(operatorSpec(task)) as readonly string[];
  return caps.includes(req.capability) ? undefined : `${label(src)} (task ${task}) has no ${req.capability}`;
}

/**
 * A cycle (node ids) in the graph without the loops' back edges (into a state's loop input, State.next), or undefined. Depth-first
 * with an explicit stack: user graphs may be chains thousands of nodes long, deeper than the call
 * stack.
 */
function findCycle(doc: GraphDocument, byId: Index): string[] | undefined {
  const adj = new Map<string, string[]>();
  for (const e of doc.edges) {
    const target = byId.get(e.target);
    if (target && isLoopEdge(target.node.kind, e.targetPort)) continue;
    if (!byId.has(e.source) || !byId.has(e.target)) continue;
    const list = adj.get(e.source);
    if (list) list.push(e.target);
    else adj.set(e.source, [e.target]);
  }
  const color = new Map<string, 1 | 2>(); // 1: on the current path, 2: finished
  for (const root of byId.keys()) {
    if (color.has(root)) continue;
    const path: string[] = [root];
    const next: number[] = [0]; // per path entry: the index of the next neighbour to visit
    color.set(root, 1);
    while (path.length) {
      const id = path[path.length - 1]!;
      const out = adj.get(id) ?? [];
      const i = next[next.length - 1]!;
      if (i === out.length) {
        color.set(id, 2);
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = i + 1;
      const to = out[i]!;
      if (color.get(to) === 1) return [...path.slice(path.indexOf(to)), to];
      if (!color.has(to)) {
        color.set(to, 1);
        path.push(to);
        next.push(0);
      }
    }
  }
  return undefined;
}
