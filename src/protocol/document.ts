/** The graph document field that requests carrying a graph share (run.start, graph.validate, tune.start). */
import { z } from 'zod';
import type { WireGraph } from './messages';

/**
 * A graph document as a request carries it: typed as the editor's WireGraph (or any JSON object a
 * client sends); checked here only for being an object, since the host parses and validates it
 * with the engine's own schema and reports issues by JSON path.
 */
export const docSchema = z.custom<WireGraph | Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
  message: 'expected a graph document (a JSON object)',
});
