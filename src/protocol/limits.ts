/**
 * Bounds on what a graph document or a request may ask for. They keep one bad file or frame from
 * taking minutes and gigabytes before anything can refuse it (2³¹ iterations used to allocate
 * 16.9 GB while compiling), and they sit far above what any solver here needs: the presets use at
 * most 1000 iterations, 100 Langevin steps, 18 nodes, 28 edges and JSON 6 levels deep.
 */
export const LIMITS = {
  /** Iterations K of a run or a Schedule node. */
  iterations: 100_000,
  /** Inner steps per iteration (Langevin, ODE). */
  steps: 10_000,
  /** Preview / metrics period, in iterations. */
  every: 100_000,
  /** Posterior samples drawn together. */
  samples: 64,
  /** Nodes in one graph. */
  nodes: 2_000,
  /** Edges in one graph. */
  edges: 10_000,
  /** Nesting depth of a document's JSON (objects and arrays); the presets reach 6. */
  depth: 32,
  /** Image side in pixels (ImageInput size, operator geometry). */
  imageSide: 4_096,
  /** Characters of an id, kind, port or label. */
  name: 200,
  /** Characters of a value echoed in an error message. */
  shown: 120,
} as const;

/**
 * `value` as JSON for a message, cut to {@link LIMITS.shown} characters with the full length said,
 * so a 10 MB value is never echoed whole. Values JSON cannot show (cycles, too deep) read as
 * their type.
 */
export function shownValue(value: unknown, max: number = LIMITS.shown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = Array.isArray(value) ? 'an array' : typeof value;
  }
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} characters)`;
}

/**
 * The first place where `json` nests deeper than `maxDepth` objects/arrays, as a JSON path, or
 * undefined. Iterative, so a document nested a million levels deep is refused instead of
 * overflowing the stack of whatever walks it next (JSON.stringify, structured clone).
 */
export function tooDeep(json: unknown, maxDepth: number = LIMITS.depth): string | undefined {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: json, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return path || '(root)';
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: `${path}[${i}]` }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth: depth + 1, path: path ? `${path}.${k}` : k });
  }
  return undefined;
}
