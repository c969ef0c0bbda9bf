/**
 * Groups: titled frames around nodes of a graph document (`groups` in `*.lagrange.json`), drawn by
 * the studio and ignored by the engine. A group names its member nodes; it holds no positions of
 * its own (the frame is the box around its members), so moving nodes never leaves it behind.
 * `collapsed` shows the group as one node with the ports its members expose to the rest of the
 * graph. Optional in the document: files without groups keep their bytes.
 */
import { z } from 'zod';
import { LIMITS } from './limits';

/** One group. */
export interface WireGroup {
  id: string;
  title: string;
  /** Ids of the member nodes; a node belongs to at most one group. */
  nodes: string[];
  /** Drawn as one node with the members' external ports; absent means expanded. */
  collapsed?: boolean;
}

/** Most groups a document may hold. */
export const MAX_GROUPS = 500;

/** Schema of the document's `groups` field (strict, like the rest of the document). */
export const groupsSchema = z
  .array(
    z.strictObject({
      id: z.string().min(1).max(LIMITS.name),
      title: z.string().max(LIMITS.name),
      nodes: z.array(z.string().min(1).max(LIMITS.name)).max(LIMITS.nodes),
      collapsed: z.boolean().optional(),
    }),
  )
  .max(MAX_GROUPS);
