/** Timing helpers for the benchmarks: repeat until a time budget is spent, report ops/s. */

/** Calls `fn` repeatedly (after one warm-up call) for at least `budgetMs`; returns calls per second. */
export function opsPerSecond(fn: () => unknown, budgetMs = 400): number {
  fn();
  let calls = 0;
  const t0 = performance.now();
  let dt: number;
  do {
    fn();
    calls++;
    dt = performance.now() - t0;
  } while (dt < budgetMs);
  return (calls * 1000) / dt;
}

/** Formats a number of ops/s with 3 significant digits. */
export const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));
