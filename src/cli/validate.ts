/** `lagrange validate <graph>`: parse and statically check a graph file. */
import { readFileSync } from 'node:fs';
import { GraphFormatError, parseGraph } from '../engine/graph/format';
import { validateGraph } from '../engine/graph/validate';
import { CliError } from './errors';

/** Result lines and whether the graph is valid. */
export function runValidate(file: string): { ok: boolean; lines: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  let doc;
  try {
    doc = parseGraph(json, file);
  } catch (e) {
    if (e instanceof GraphFormatError) return { ok: false, lines: e.issues.map((i) => `${file}: ${i}`) };
    throw e;
  }
  const r = validateGraph(doc);
  const lines = [...r.errors.map((e) => `${file}: error: ${e.path}: ${e.message}`), ...r.warnings.map((w) => `${file}: warning: ${w.path}: ${w.message}`)];
  if (r.ok) {
    const kinds = [...new Set(doc.nodes.map((n) => n.kind))].join(', ');
    lines.unshift(`${file}: ok — "${doc.name}", ${doc.nodes.length} nodes, ${doc.edges.length} edges (${kinds})`);
  }
  return { ok: r.ok, lines };
}
