/** `lagrange tasks`: the measurement operators with their parameters at a given image size. */
import { operatorOrigin, operatorSpecs } from '../engine/operators/registry';

/** ` [plugin ct]` for a plugin's operator, '' for a built-in one. */
const mark = (id: string): string => {
  const origin = operatorOrigin(id);
  return origin && origin !== 'builtin' ? ` [plugin ${origin}]` : '';
};

/** Lines describing every task at side `size` (parameters rescaled by the size rule). */
export function describeTasks(size: number, channels = 3): string[] {
  const lines: string[] = [];
  for (const spec of operatorSpecs()) {
    const shape = [channels, size, size];
    const problem = spec.checkShape?.(shape);
    const params = problem ? `(not available at ${size} px: ${problem})` : JSON.stringify(spec.defaults(shape));
    const caps = spec.capabilities.join(', ');
    lines.push(`${spec.id.padEnd(17)} ${spec.summary}${mark(spec.id)}`);
    lines.push(`${''.padEnd(17)} ${spec.linear ? 'linear' : 'nonlinear'}; ${caps}${spec.seeded ? '; seeded' : ''}`);
    lines.push(`${''.padEnd(17)} at ${size} px: ${params}`);
  }
  return lines;
}

/** JSON form for `--json`. */
export function tasksJson(size: number, channels = 3): unknown[] {
  return operatorSpecs().map((s) => {
    const shape = [channels, size, size];
    const problem = s.checkShape?.(shape);
    const origin = operatorOrigin(s.id);
    return {
      id: s.id,
      ...(origin && origin !== 'builtin' ? { plugin: origin } : {}),
      title: s.title,
      summary: s.summary,
      linear: s.linear,
      seeded: s.seeded,
      capabilities: s.capabilities,
      params: problem ? null : s.defaults(shape),
      unavailable: problem ?? null,
      doc: s.doc,
    };
  });
}
