/**
 * Taps: per-iteration steps whose outputs only sinks read (Output, Preview, Metrics), such as the
 * Decoder that turns a latent result into the image those show. Nothing of the next iteration
 * depends on them, so the runtime evaluates them after the body, and only in the iterations where
 * a sink reads them (previews every few iterations, the Output once): a latent loop then pays one
 * decoder forward per shown frame instead of one per iteration. Their random streams are keyed by
 * node and iteration like every step's, so skipping them changes no other number.
 */
import type { BodyStep, PortRef, StateSpec } from './plan';

/**
 * Splits `body` (in topological order) into the steps that run every iteration and the taps: steps
 * read by sinks or other taps only, never by a State or a non-tap step. A step nothing reads stays
 * in the body, as before.
 */
export function splitTaps(body: readonly BodyStep[], states: readonly StateSpec[], sinks: readonly PortRef[]): { body: BodyStep[]; taps: BodyStep[] } {
  const readers = new Map<string, string[]>(); // producer id → body steps reading it
  for (const s of body) for (const r of Object.values(s.inputs)) (readers.get(r.node) ?? readers.set(r.node, []).get(r.node)!).push(s.id);
  const byState = new Set(states.flatMap((s) => [s.next.node, ...(s.initFrom ? [s.initFrom.node] : [])]));
  const bySink = new Set(sinks.map((r) => r.node));
  const tap = new Set<string>();
  // Consumers follow their producers in `body`, so a reverse walk sees every reader decided first.
  for (let i = body.length - 1; i >= 0; i--) {
    const id = body[i]!.id;
    const steps = readers.get(id) ?? [];
    const read = bySink.has(id) || steps.length > 0;
    if (read && !byState.has(id) && steps.every((r) => tap.has(r))) tap.add(id);
  }
  return { body: body.filter((s) => !tap.has(s.id)), taps: body.filter((s) => tap.has(s.id)) };
}
