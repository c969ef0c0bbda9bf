/**
 * The graph checks behind `graph.parse`, `graph.validate` and `run.start`: parse a document (the
 * engine's schema and migrations), apply a run's measurement, validate. Pure work over plain data,
 * so the same function runs on a host's thread (small graphs) or in the check worker
 * (checkWorker.ts) and answers the same.
 */
import type { MeasurementSource, Results, WireGraph } from '../../protocol/messages';
import { withMeasurement } from '../graph/edit';
import type { GraphDocument } from '../graph/format';
import { GraphFormatError, parseGraph } from '../graph/format';
import type { ValidationResult } from '../graph/validate';
import { validateGraph } from '../graph/validate';
import { RequestError } from './errors';

/** One check: parse a file's text, validate a document, or prepare a run's document. */
export type CheckJob = { type: 'parse'; text: string; source?: string } | { type: 'validate'; doc: unknown } | { type: 'run'; doc: unknown; measurement?: MeasurementSource };

/** What a check answers, by job type. */
export interface CheckResults {
  parse: Results['graph.parse'];
  validate: ValidationResult;
  /** The parsed document, measurement applied, and its validation (the host decides what to refuse first). */
  run: { doc: GraphDocument; validation: ValidationResult };
}

/** The answer to `job`. */
export type CheckResultOf<J extends CheckJob> = CheckResults[J['type']];

/** A graph document from the wire, or a RequestError listing every format issue. */
export function wireDocument(json: unknown): GraphDocument {
  try {
    return parseGraph(json, 'graph');
  } catch (e) {
    if (e instanceof GraphFormatError)
      throw new RequestError(
        e.message,
        e.issues.map((m) => ({ path: m.split(':')[0]!, message: m })),
      );
    throw e;
  }
}

function parseText(text: string, source: string | undefined): Results['graph.parse'] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, issues: [`${source ?? 'file'}: not valid JSON (${(e as Error).message})`] };
  }
  try {
    return { ok: true, doc: parseGraph(json, source) as WireGraph };
  } catch (e) {
    if (e instanceof GraphFormatError) return { ok: false, issues: [...e.issues] };
    throw e;
  }
}

/** Runs `job` in this thread. @throws RequestError for a malformed document; a measurement that does not fit says why */
export function runCheck<J extends CheckJob>(job: J): CheckResultOf<J> {
  switch (job.type) {
    case 'parse':
      return parseText(job.text, job.source) as CheckResultOf<J>;
    case 'validate':
      return validateGraph(wireDocument(job.doc)) as CheckResultOf<J>;
    case 'run': {
      let doc = wireDocument(job.doc);
      if (job.measurement) doc = withMeasurement(doc, job.measurement);
      return { doc, validation: validateGraph(doc) } as CheckResultOf<J>;
    }
  }
}

/**
 * Whether `job` is small enough to check on the host's thread: at most `budget` values in its
 * document (every object entry, array item and 256 characters of a string count one), or a file
 * text of at most `budget` × 16 characters. The walk stops as soon as the budget is spent (an
 * array's length is read, not walked; an object's keys are enumerated, which costs less than
 * parsing them from the frame did).
 */
export function isSmallJob(job: CheckJob, budget: number): boolean {
  if (job.type === 'parse') return job.text.length <= budget * 16;
  let left = budget;
  const stack: unknown[] = [job.doc];
  while (stack.length) {
    const v = stack.pop();
    if (--left < 0) return false;
    if (typeof v === 'string') left -= v.length >> 8;
    else if (Array.isArray(v)) {
      if (v.length > left) return false;
      for (const x of v) stack.push(x);
    } else if (v && typeof v === 'object') {
      for (const k in v) {
        if (stack.length > left) return false;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
    if (stack.length > left) return false;
  }
  return left >= 0;
}
