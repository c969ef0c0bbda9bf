/**
 * Canonical JSON for keys and hashes: object keys sorted and undefined fields left out, so equal
 * tables give equal strings whatever order their keys were written in. (fast-json-stable-stringify
 * does the same, but is only a transitive dependency here; these dozen lines are not worth one.)
 */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
