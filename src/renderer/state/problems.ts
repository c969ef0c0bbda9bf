/**
 * What the Problems panel and the node outlines show besides the engine's validation: the error
 * of the last run (kept until what caused it may have changed) and checks the validator leaves to
 * the studio (an empty graph, no Output node). Pure functions over the document.
 */
import type { WireGraph, WireIssue } from '../../protocol/messages';

/** A run's error as a problem: tied to the document it was raised for. */
export interface RunProblem {
  message: string;
  nodeId?: string;
  iteration?: number;
  /** {@link runFingerprint} of the document the run used. */
  fingerprint: string;
}

/**
 * What a run's outcome depends on: kinds, parameters, wiring, run settings, overrides and models.
 * Layout, labels, name and description are left out, so moving a node keeps the error shown.
 */
export function runFingerprint(doc: WireGraph): string {
  return JSON.stringify({
    nodes: doc.nodes.map((n) => [n.id, n.kind, n.params]),
    edges: doc.edges,
    run: doc.run,
    overrides: doc.overrides,
    models: doc.models,
  });
}

/** The problem a run's error leaves on the document it ran. */
export function runProblem(doc: WireGraph, error: { message: string; nodeId?: string; iteration?: number }): RunProblem {
  return { ...error, fingerprint: runFingerprint(doc) };
}

/** The problem while it still applies to `doc` (nothing it depends on changed), else undefined. */
export function standing(p: RunProblem | undefined, doc: WireGraph): RunProblem | undefined {
  return p && p.fingerprint === runFingerprint(doc) ? p : undefined;
}

/** The problem as a Problems entry: on its node when known, graph-level otherwise. */
export function asIssue(p: RunProblem): WireIssue {
  // The runtime's messages usually say the iteration already; say it once.
  const where = p.iteration !== undefined && !p.message.includes(`iteration ${p.iteration}`) ? ` (at iteration ${p.iteration})` : '';
  return { path: 'run', ...(p.nodeId ? { nodeId: p.nodeId } : {}), message: `run failed${where}: ${p.message}` };
}

/** Graph-level problems the engine's validator does not report: nothing to run is an error, no Output a warning. */
export function graphProblems(doc: WireGraph): { errors: WireIssue[]; warnings: WireIssue[] } {
  if (doc.nodes.length === 0) return { errors: [{ path: 'nodes', message: 'nothing to run: the graph is empty (add nodes or open a preset)' }], warnings: [] };
  if (!doc.nodes.some((n) => n.kind === 'Output')) return { errors: [], warnings: [{ path: 'nodes', message: 'no Output node: a run gives no result picture or tensor' }] };
  return { errors: [], warnings: [] };
}
