/**
 * When each per-iteration value of a Plan dies, worked out once from the step inputs: the runtime
 * hands a dead value's buffer back to its pool, and the next step (or the next iteration) gets it
 * as an output. Per iteration the timeline is body step 0 … B−1, then "after the body" (B): the
 * state registers are updated, the taps a sink wants run, previews and metrics read their
 * sources, and on the last iteration the Output is taken.
 */
import { key } from '../compile/plan';
import type { Plan } from '../compile/plan';

/** Where the values of one iteration die; see {@link liveness}. */
export interface Liveness {
  /**
   * `dieAfter[i]`: keys whose value nothing reads after body step i (i < B), or after the
   * iteration's previews and metrics (i = B; on the last iteration those stay: one is the result).
   */
  dieAfter: string[][];
  /** Keys some step or sink reads; an output not listed is dead as soon as its step has run. */
  read: ReadonlySet<string>;
  /**
   * State `next` sources: they become the registers (and a pause's snapshot), so they outlive
   * their iteration; as `<state>.current` they die in the next one like any other value.
   */
  carried: ReadonlySet<string>;
  /**
   * The carried keys that body steps produce: at the start of the next iteration their values
   * live on as registers (under `<state>.current`) and the old keys are dropped.
   */
  carriedOutputs: readonly string[];
}

/** The death points of the per-iteration values (`<state>.current` and body outputs) of `plan`. */
export function liveness(plan: Plan): Liveness {
  const B = plan.body.length;
  const taps = plan.taps ?? [];
  const dynamic = new Set([...plan.states.map((s) => s.id), ...plan.body.map((s) => s.id), ...taps.map((s) => s.id)]);
  const carried = new Set(plan.states.map((s) => key(s.next)));
  const bodyIds = new Set(plan.body.map((s) => s.id));
  const last = new Map<string, number>();
  const use = (k: string, at: number): void => void last.set(k, Math.max(at, last.get(k) ?? -1));
  plan.body.forEach((step, i) => {
    for (const ref of Object.values(step.inputs)) if (dynamic.has(ref.node)) use(key(ref), i);
  });
  // Previews, metrics and the Output read after the body; a register no step reads dies there too.
  const sinks = [...plan.previews.map((p) => p.source), ...(plan.metrics ? [plan.metrics.source] : []), ...(plan.output ? [plan.output] : [])];
  for (const ref of sinks) if (dynamic.has(ref.node)) use(key(ref), B);
  // Taps run after the body, when a sink wants them: what they read lives to the end of the iteration.
  for (const t of taps) for (const ref of Object.values(t.inputs)) if (dynamic.has(ref.node)) use(key(ref), B);
  for (const st of plan.states) if (!last.has(`${st.id}.current`)) use(`${st.id}.current`, B);

  const dieAfter: string[][] = Array.from({ length: B + 1 }, () => []);
  for (const [k, at] of last) if (!carried.has(k)) dieAfter[at]!.push(k);
  return { dieAfter, read: new Set(last.keys()), carried, carriedOutputs: plan.states.filter((s) => bodyIds.has(s.next.node)).map((s) => key(s.next)) };
}
