/**
 * Graph documents at the size limits, built from a preset: the checks' worst cases for the
 * browser-mode server and the graph check worker.
 */
import { readFileSync } from 'node:fs';

type Doc = { name: string; nodes: Record<string, unknown>[]; edges: { source: string; sourcePort: string; target: string; targetPort: string }[] } & Record<string, unknown>;

const ROOT = new URL('../..', import.meta.url).pathname;

/** A shipped preset as sent on the wire. */
export const preset = (name = 'ddiff'): Doc => JSON.parse(readFileSync(`${ROOT}resources/presets/${name}.lagrange.json`, 'utf8')) as Doc;

/** The state's next-x edge of `doc` (what the added nodes read). */
const stateOut = (doc: Doc): { source: string; sourcePort: string } => doc.edges.find((e) => e.targetPort === 'next')!;

/** The preset with `n` Preview nodes on x̂: valid, 19 + n nodes (1,980 puts it at the 2,000-node limit). */
export function previews(n: number): Doc {
  const doc = preset();
  const x = stateOut(doc);
  for (let i = 0; i < n; i++) {
    doc.nodes.push({ id: `r${i}`, kind: 'Preview', params: {} });
    doc.edges.push({ source: x.source, sourcePort: x.sourcePort, target: `r${i}`, targetPort: 'image' });
  }
  return doc;
}

/** The preset with 1,980 Previews and edges up to the 10,000-edge limit: invalid (most inputs fed several times). */
export function fanOut(): Doc {
  const doc = preset();
  const x = stateOut(doc);
  doc.edges.push(...Array.from({ length: 10_000 - doc.edges.length }, (_, i) => ({ ...x, target: `p${i % 1980}`, targetPort: 'image' })));
  doc.nodes.push(...Array.from({ length: 1980 }, (_, i) => ({ id: `p${i}`, kind: 'Preview', params: {} })));
  return doc;
}

/** The preset with one extra node of `kind` and parameters `params`. */
export function withNode(kind: string, params: Record<string, unknown>, plugin?: string): Doc {
  const doc = preset();
  doc.nodes.push({ id: 'extra', kind, params, ...(plugin ? { plugin } : {}) });
  return doc;
}
