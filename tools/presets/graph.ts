/**
 * The pieces every preset graph is built from: the document types, a small graph builder, the
 * output/preview/metrics tail with the variable taps, and the paper/tuned references the studio
 * compares against. Imported by build.ts (pixel presets) and latent.ts (latent presets).
 */
export type Params = Record<string, unknown>;
export interface Node {
  id: string;
  kind: string;
  params: Params;
  position: { x: number; y: number };
}
export interface Edge {
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export const TASKS = ['sr4', 'inpaint-box', 'inpaint-random', 'deblur-gauss', 'deblur-motion', 'phase-retrieval', 'deblur-nonlinear', 'hdr'] as const;
export type Task = (typeof TASKS)[number];

export class Graph {
  nodes: Node[] = [];
  edges: Edge[] = [];
  node(id: string, kind: string, params: Params, x: number, y: number): this {
    this.nodes.push({ id, kind, params, position: { x: x * 230, y: y * 190 } }); // room for nodes with ports and a live preview
    return this;
  }
  edge(from: string, to: string): this {
    const [source, sourcePort] = from.split('.') as [string, string];
    const [target, targetPort] = to.split('.') as [string, string];
    this.edges.push({ source, sourcePort, target, targetPort });
    return this;
  }
}

/** A live view of one of the solver's variables: a Preview node on `from`, at grid cell (x, y). */
export interface Tap {
  id: string;
  label: string;
  from: string;
  x: number;
  y: number;
  range?: 'signal' | 'auto';
}

export const PREVIEW_EVERY = 50;

/**
 * Output, result preview and metrics on `result`, then the variable taps. The result preview stays
 * the first Preview node: `lagrange run` strips the first one over the iterations. A tap on the
 * result itself (x in the DDiff family, DiffPIR) would only repeat it, so there is none.
 */
export function finish(g: Graph, result: string, taps: Tap[], name: string, description: string, overrides: Record<string, Record<string, Params>>, paper: Reference): object {
  g.node('out', 'Output', {}, 7, 1).node('preview', 'Preview', { label: 'x̂', every: PREVIEW_EVERY }, 7, 2).node('metrics', 'Metrics', { every: 50 }, 7, 3);
  g.edge(result, 'out.image').edge(result, 'preview.image').edge(result, 'metrics.image').edge('measure.measurement', 'metrics.measurement');
  for (const t of taps) g.node(t.id, 'Preview', { label: t.label, every: PREVIEW_EVERY, ...(t.range ? { range: t.range } : {}) }, t.x, t.y).edge(t.from, `${t.id}.image`);
  return {
    format: 'lagrange-graph',
    version: 1,
    name,
    description,
    nodes: g.nodes,
    edges: g.edges,
    run: { seed: 0 },
    models: {},
    overrides,
    reference: references(g, overrides, paper),
  };
}

/**
 * Where a preset's numbers come from. `paper` holds the published values: every solver node's own
 * parameters (`base`) and the per-task/profile table; the studio compares what runs against it
 * ("30 · paper") and resets to it in one click. `overrides` is what runs; where a preset is retuned
 * for the bundled prior, `tuned` names those values and says where they were measured.
 */
export interface Reference {
  note: string;
  /** The published table, when what runs differs from it (default: `overrides`). */ overrides?: Record<string, Record<string, Params>>;
  tuned?: { note: string; overrides: Record<string, Record<string, Params>> };
}

export const SOLVER_KINDS = new Set([
  'Result',
  'Schedule',
  'State',
  'Denoise',
  'XUpdate',
  'ZUpdate',
  'DualUpdate',
  'Noising',
  'DPSGuidance',
  'AnnealedLangevin',
  'ProbabilityFlowODE',
  'LatentXUpdate',
  'LatentProbabilityFlowODE',
  'LatentMCMC',
]);

export function references(g: Graph, overrides: Record<string, Record<string, Params>>, ref: Reference): object {
  const base = Object.fromEntries(g.nodes.filter((n) => SOLVER_KINDS.has(n.kind)).map((n) => [n.id, n.params]));
  const table = ref.overrides ?? overrides;
  // The published base values win over the nodes' own where a preset retunes a node for every task.
  const paperBase = Object.fromEntries(Object.entries(base).map(([id, p]) => [id, { ...p, ...table.base?.[id] }]));
  const paper = { note: ref.note, overrides: { ...table, base: paperBase } };
  // A documented choice of convention that differs from the code's (the studio: "· convention").
  const returns = g.nodes.find((n) => n.kind === 'Result')?.params.returns;
  const convention = returns !== undefined && returns !== paperBase.result?.returns ? { convention: { note: RESULT_NOTE, overrides: { base: { result: { returns } } } } } : {};
  return { paper, ...(ref.tuned ? { tuned: ref.tuned } : {}), ...convention };
}

export const RESULT_NOTE =
  'returns x of the last pass; the official code returns the last x_t, which for DDiff carries the dual u (on an exact Gaussian posterior 5.97 vs 0.20 posterior std off; docs/conventions.md)';

/** `tables` merged per layer and node (later ones win). */
export function mergeTables(...tables: Record<string, Record<string, Params>>[]): Record<string, Record<string, Params>> {
  const out: Record<string, Record<string, Params>> = {};
  for (const t of tables) for (const [layer, nodes] of Object.entries(t)) for (const [id, p] of Object.entries(nodes)) (out[layer] ??= {})[id] = { ...out[layer]?.[id], ...p };
  return out;
}

export const byTask = (f: (t: Task) => Record<string, Params>): Record<string, Record<string, Params>> => Object.fromEntries(TASKS.map((t) => [`task:${t}`, f(t)]));

// DDiff FFHQ table: γ₀, t₀ and noise mode per task (a = 3.3, b = 0.1, t_γ = 90).
export const DDIFF: Record<Task, { gamma0: number; t0: number; mode: 'fresh' | 'ddpm' }> = {
  sr4: { gamma0: 18, t0: 1, mode: 'fresh' },
  'inpaint-box': { gamma0: 30, t0: 1, mode: 'fresh' },
  'inpaint-random': { gamma0: 50, t0: 1, mode: 'fresh' },
  'deblur-gauss': { gamma0: 2.9, t0: 50, mode: 'ddpm' },
  'deblur-motion': { gamma0: 2.9, t0: 80, mode: 'ddpm' },
  'phase-retrieval': { gamma0: 38, t0: 1, mode: 'fresh' },
  'deblur-nonlinear': { gamma0: 2.5, t0: 120, mode: 'ddpm' },
  hdr: { gamma0: 3.5, t0: 120, mode: 'ddpm' },
};
export const noiseMode = (m: 'fresh' | 'ddpm'): Params => (m === 'fresh' ? { zeta: 1, eta: 1 } : { zeta: 0, eta: 1 });
