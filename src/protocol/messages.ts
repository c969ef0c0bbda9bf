/**
 * The studio's wire protocol: what the renderer may ask of the engine host and what it hears back,
 * as zod schemas. Browser mode speaks it over a WebSocket, the desktop app over IPC; both hosts
 * validate every incoming request with these schemas before touching the engine. This folder
 * imports nothing of ours but node-kind types, so the renderer, the preload bridge and the hosts
 * share it.
 */
import { z } from 'zod';
import type { NodeCatalog } from './catalog';
import type { WireGroup } from './groups';
import { docSchema } from './document';
import { LIMITS } from './limits';
import type { TuneResults } from './tune';
import { tuneRequestSchemas } from './tune';

/** Where a run's measurement comes from: simulated from an image, or a bundle on disk. */
export const measurementSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('simulate'),
    /** Task id (inpaint-box, deblur-gauss, …); replaces the graph's operator node. */
    task: z.string().min(1).optional(),
    /** Image reference (`model:<name>/heldout/03.png`, `sample:<name>` or a path). */
    image: z.string().min(1).optional(),
    sigma: z.number().min(0).max(10).optional(),
  }),
  z.object({ kind: z.literal('bundle'), path: z.string().min(1) }),
]);
export type MeasurementSource = z.infer<typeof measurementSourceSchema>;

/** A run request: the graph as the editor holds it plus what the run panel chose. */
export const runRequestSchema = z.object({
  /** A graph document; the host parses and validates it with the engine's schema. */
  doc: docSchema,
  measurement: measurementSourceSchema.optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31)
    .optional(),
  iterations: z.number().int().min(1).max(LIMITS.iterations).optional(),
  samples: z.number().int().min(1).max(LIMITS.samples).optional(),
  /** Minimum milliseconds between preview events (default 100). */
  throttleMs: z.number().int().min(0).max(10_000).optional(),
});
export type RunRequest = z.infer<typeof runRequestSchema>;

const empty = z.object({}).strict();
const nameParams = z.object({ name: z.string().min(1).max(200) }).strict();
const runIdParams = z.object({ runId: z.string().min(1).max(64) }).strict();

/** Parameters of every method, by method name. */
export const requestSchemas = {
  'presets.list': empty,
  'presets.get': nameParams,
  /** Parse a graph file's text (import): migrated document or precise issues. */
  'graph.parse': z.object({ text: z.string().max(20_000_000), source: z.string().max(500).optional() }).strict(),
  'graph.validate': z.object({ doc: docSchema }).strict(),
  'models.list': empty,
  /** Every node kind the engine knows (built-in and from plugins) and what the plugin loader did. */
  'nodes.catalog': empty,
  'images.list': empty,
  /** Store an image the user picked (PNG or .npy bytes) and get a reference usable as ImageInput source. */
  'images.upload': z.object({ name: z.string().min(1).max(200), base64: z.string().max(50_000_000) }).strict(),
  'run.start': runRequestSchema,
  'run.cancel': runIdParams,
  /** A zip of graph + measurement + result + report. */
  'run.export': runIdParams,
  /** Hyperparameter search on the editor's graph (src/protocol/tune.ts). */
  ...tuneRequestSchemas,
} as const;

export type Method = keyof typeof requestSchemas;
export type Params<M extends Method> = z.infer<(typeof requestSchemas)[M]>;

/** A shipped preset with a thumbnail (PNG data URL of its result on its default task), when one exists. */
export interface PresetSummary {
  name: string;
  description: string;
  thumbnail?: string;
  /** The plugin that ships the preset; absent for the product's own. */
  plugin?: string;
}

/** The iteration backends, in the order the studio offers them. */
export const BACKENDS = ['js', 'onnx'] as const;

/**
 * Where a run's iterations compute: `js` is the engine's own runtime, `onnx` runs the update steps
 * as ONNX models beside the score network. Absent from a document means `js`.
 */
export type WireBackend = (typeof BACKENDS)[number];

/** A graph document as it travels (the engine's `*.lagrange.json` format). */
export interface WireGraph {
  format: 'lagrange-graph';
  version: number;
  name: string;
  description: string;
  /** `plugin`: the plugin that declares the node's kind (absent for built-in kinds). */
  nodes: { id: string; kind: string; params: Record<string, unknown>; position?: { x: number; y: number }; label?: string; plugin?: string }[];
  edges: { source: string; sourcePort: string; target: string; targetPort: string }[];
  run: { iterations?: number; seed: number; backend?: WireBackend; profile?: string };
  models: Record<string, unknown>;
  overrides: Record<string, Record<string, Record<string, unknown>>>;
  reference?: Record<string, { note: string; overrides: Record<string, Record<string, Record<string, unknown>>> }>;
  /** Titled frames around nodes, drawn by the studio, ignored by the engine (`groups.ts`). */
  groups?: WireGroup[];
}

/** One problem in a graph, located by JSON path and node. */
export interface WireIssue {
  path: string;
  nodeId?: string;
  message: string;
}

/** Results of every method, by method name. */
export interface Results extends TuneResults {
  'presets.list': PresetSummary[];
  'presets.get': WireGraph;
  'graph.parse': { ok: true; doc: WireGraph } | { ok: false; issues: string[] };
  'graph.validate': { ok: boolean; errors: WireIssue[]; warnings: WireIssue[] };
  'models.list': { name: string; title: string; shape: number[]; origin: 'bundled' | 'user' }[];
  'nodes.catalog': NodeCatalog;
  'images.list': { ref: string; label: string; thumbnail: string }[];
  'images.upload': { ref: string };
  'run.start': { runId: string };
  'run.cancel': { cancelled: boolean };
  'run.export': { fileName: string; base64: string };
}

/** An 8-bit RGBA picture, base64-encoded. */
export interface Frame {
  width: number;
  height: number;
  rgba: string;
}

/** Per-sample quality of an estimate (also the engine's `QualityMetrics`). */
export interface WireMetrics {
  /** ‖y − A(x̂)‖/‖y‖ per sample. */
  residual: number[];
  /** ‖y − A(x̂)‖/(σ_y√m) per sample (≈ 1 at the noise level). */
  normalisedResidual: number[];
  /** Against the ground truth, when known. */
  psnr?: number[];
  ssim?: number[];
  /** LPIPS against the ground truth, when the Metrics node names an LPIPS network. */
  lpips?: number[];
}

/** Where one per-iteration step of a run ran. */
export interface WirePlacement {
  node: string;
  kind: string;
  ranOn: 'onnx' | 'js';
  /** The ONNX execution provider (e.g. `cpu`, `cuda`, `webgpu`), or `js`. */
  provider: string;
  /** Why a step ran in JS under the ONNX backend. */
  reason?: string;
}

/** Everything needed to trace a result back to its inputs (also the engine's `RunReport`). */
export interface WireReport {
  graph: string;
  hash: string;
  seed: number;
  samples: number;
  iterations: number;
  /** Score-model forward evaluations (a batch of N counts once). */
  nfe: number;
  /** Denoiser VJP evaluations (DPS). */
  vjpCalls: number;
  /** Evaluations of networks other than the score model, by name: `encoder`, `decoder`, `decoderVjp` (latent solvers). */
  calls?: Record<string, number>;
  wallMs: number;
  /** Time inside score-model calls. */
  scoreModelMs: number;
  /** Everything else: wall − score model. */
  engineMs: number;
  secondsPerNfe: number;
  provider: string;
  /** The backend that ran the iterations (set by the host that chose it; the runtime leaves it out). */
  backend?: WireBackend;
  /** Every per-iteration step, in body order, with where it ran (the JS runtime: all `js`). */
  placement?: WirePlacement[];
  /** Asked for the fused ONNX iteration and not fused: why (the steps then ran node by node). */
  fallback?: string;
  versions: Record<string, string>;
  warnings: string[];
  metrics?: WireMetrics;
  /** The measured task and its noise level. */
  task?: string;
  sigmaY?: number;
  /** The profile whose overrides were applied (e.g. DAPS's 4k). */
  profile?: string;
  /** Every node's parameters as the run used them (defaults, task/profile overrides and per-run values applied). */
  effectiveParams?: Record<string, Record<string, unknown>>;
}

/** Run events as the renderer receives them. */
export type WireRunEvent =
  /** Sent once before the first iteration: what is being solved. */
  | { type: 'inputs'; task: string; sigma: number; truth?: Frame; measurement: Frame }
  | { type: 'progress'; iteration: number; of: number; nfe: number; elapsedMs: number }
  | ({ type: 'preview'; nodeId: string; label: string; iteration: number } & Frame)
  | ({ type: 'metrics'; iteration: number } & WireMetrics)
  | { type: 'result'; frame: Frame }
  | { type: 'done'; report: WireReport }
  | { type: 'cancelled'; iteration: number; report: WireReport }
  | { type: 'error'; nodeId?: string; iteration?: number; message: string };

/** Host → renderer messages. */
export type ServerMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; issues?: WireIssue[] } | { runId: string; event: WireRunEvent };

/** Renderer → host request envelope. */
export const clientMessageSchema = z.object({ id: z.number().int().min(0), method: z.string(), params: z.unknown() }).strict();

/** Raised by {@link parseRequest}; the message names the method and the field. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Validates a request's method and parameters; throws {@link ProtocolError} naming what is wrong. */
export function parseRequest(method: string, params: unknown): { method: Method; params: Params<Method> } {
  if (!Object.hasOwn(requestSchemas, method)) throw new ProtocolError(`unknown method '${method}'; known: ${Object.keys(requestSchemas).join(', ')}`);
  const m = method as Method;
  const parsed = requestSchemas[m].safeParse(params ?? {});
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
    throw new ProtocolError(`${m}: ${why}`);
  }
  return { method: m, params: parsed.data as Params<Method> };
}
