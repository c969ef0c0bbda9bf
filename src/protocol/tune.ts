/**
 * The studio's tuning messages: `tune.start` searches node parameters of the editor's graph on
 * one task (the search `lagrange tune` runs: quasi-random points, successive halving, the best
 * and the graph's own values scored on held-out test images) and `tune.cancel` stops it. A
 * search's events travel on the run-event channel under ids `tune-<n>`, which no run uses, so
 * every host forwards them as it forwards run events.
 */
import { z } from 'zod';
import { docSchema } from './document';
import type { WireGraph } from './messages';

/** One tuned parameter: an interval (linear or log-uniform) or a list of values, as `--param` takes them. */
export const tuneRangeSchema = z.discriminatedUnion('kind', [
  z
    .object({
      node: z.string().min(1).max(200),
      param: z.string().min(1).max(200),
      kind: z.enum(['linear', 'log']),
      lo: z.number().finite(),
      hi: z.number().finite(),
    })
    .strict(),
  z
    .object({
      node: z.string().min(1).max(200),
      param: z.string().min(1).max(200),
      kind: z.literal('list'),
      values: z
        .array(z.union([z.number().finite(), z.string().max(200), z.boolean()]))
        .min(2)
        .max(64),
    })
    .strict(),
]);
export type WireTuneRange = z.infer<typeof tuneRangeSchema>;

/** What the tuner maximises (PSNR, SSIM) or minimises (residual, LPIPS). */
export const TUNE_OBJECTIVES = ['psnr', 'ssim', 'residual', 'lpips'] as const;
export type WireObjective = (typeof TUNE_OBJECTIVES)[number];

const images = z.array(z.string().min(1).max(1000)).min(1).max(256);

/** A search request: the graph as the editor holds it and what the Tune panel chose. */
export const tuneRequestSchema = z
  .object({
    /** A graph document; the host parses and validates it with the engine's schema. */
    doc: docSchema,
    /** The task to tune for (its `task:<id>` override is what a tuned preset changes). */
    task: z.string().min(1).max(100),
    ranges: z.array(tuneRangeSchema).min(1).max(16),
    /** Validation images (searched on) and test images (scored once, after the search); disjoint. */
    val: images,
    test: images,
    /** Sampled trials (the graph's own values come on top), or the NFE the whole search may spend. */
    budget: z.union([z.object({ trials: z.number().int().min(1).max(500) }).strict(), z.object({ nfe: z.number().int().min(1).max(1e9) }).strict()]),
    objective: z.enum(TUNE_OBJECTIVES),
    /** The full iteration budget K (default: the graph's own for the task). */
    iterations: z.number().int().min(1).max(100_000).optional(),
    /** Seed of the quasi-random points. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .optional(),
    sigma: z.number().min(0).max(10).optional(),
    /** LPIPS network folder; needed for the `lpips` objective. */
    lpips: z.string().min(1).max(1000).optional(),
  })
  .strict();
export type TuneRequest = z.infer<typeof tuneRequestSchema>;

/** The tuning methods, merged into the protocol's method table. */
export const tuneRequestSchemas = {
  'tune.start': tuneRequestSchema,
  'tune.cancel': z.object({ tuneId: z.string().min(1).max(64) }).strict(),
} as const;

/** One successive-halving rung: its trials run K `iterations` on the first `images` validation images. */
export interface WireRung {
  index: number;
  trials: number;
  iterations: number;
  images: number;
}

/** node → parameter → value. */
export type WirePoint = Record<string, Record<string, unknown>>;

/** A trial and what each rung it reached scored (NaN travels as null: a row failed). */
export interface WireTrial {
  id: number;
  point: WirePoint;
  scores: Record<number, number | null>;
  error?: string;
}

/** Per-image means of each metric on one split. */
export interface WireSplitScores {
  psnr: number[];
  ssim: number[];
  residual: number[];
  lpips?: number[];
}

/** What a finished search found. */
export interface WireTuneResult {
  objective: WireObjective;
  task: string;
  ranges: WireTuneRange[];
  rungs: WireRung[];
  trials: WireTrial[];
  /** The best trial (0: the graph's own values won). */
  best: number;
  /** Full-budget scores of the graph's values (`defaults`) and of the best, per split. */
  val: { defaults: WireSplitScores; best: WireSplitScores };
  test: { defaults: WireSplitScores; best: WireSplitScores };
  nfe: number;
  /** One line per failed row. */
  failures: string[];
  /** The graph with the best values as its `task:<id>` override (what "Save as preset" writes). */
  tuned: WireGraph;
  /** The folder holding results.jsonl, tune.json and the reports (re-running the same search resumes it). */
  folder: string;
}

/** Events of one search, in order: phase (defaults), plan, rung/trial…, phase (test), done | cancelled | error. */
export type WireTuneEvent =
  | { type: 'tune-phase'; phase: 'starting' | 'defaults' | 'search' | 'test'; detail: string }
  | { type: 'tune-plan'; rungs: WireRung[]; trials: { id: number; point: WirePoint }[]; iterations: number }
  | { type: 'tune-rung'; rung: WireRung }
  | { type: 'tune-trial'; rung: number; trial: number; point: WirePoint; score: number | null; error?: string }
  | { type: 'tune-done'; result: WireTuneResult }
  | { type: 'tune-cancelled' }
  | { type: 'tune-error'; message: string };

/** What a host sends for one tune event (the run-event envelope). */
export interface TuneMessage {
  runId: string;
  event: WireTuneEvent;
}

/** Results of the tuning methods. */
export interface TuneResults {
  'tune.start': { tuneId: string };
  'tune.cancel': { cancelled: boolean };
}

/** Whether a run-event id belongs to a search. */
export const isTuneId = (id: string): boolean => id.startsWith('tune-');

/** The event types that end a search. */
export const TUNE_FINAL: ReadonlySet<WireTuneEvent['type']> = new Set(['tune-done', 'tune-cancelled', 'tune-error']);
