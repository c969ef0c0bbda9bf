/**
 * The shipped presets: every one parses, validates and compiles; the four DDiff ablations differ
 * only in the wiring and flags that define them (paper Table 2: dual variable yes/no × noising
 * step yes/no).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import type { GraphDocument } from '../src/engine/graph/format';
import { parseGraph } from '../src/engine/graph/format';
import { validateGraph } from '../src/engine/graph/validate';

const DIR = new URL('../resources/presets/', import.meta.url).pathname;
const load = (name: string): GraphDocument => parseGraph(JSON.parse(readFileSync(join(DIR, `${name}.lagrange.json`), 'utf8')), name);
const NAMES = ['ddiff', 'ddiff-hqs', 'diff-pnp-admm', 'diff-pnp-hqs', 'diffpir', 'dps', 'daps', 'latent-ddiff', 'latent-daps'];

describe('presets', () => {
  it('ships the DDiff family, DiffPIR, DPS, DAPS and LatentDDiff', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.lagrange.json'))
      .map((f) => f.replace('.lagrange.json', ''));
    expect(files.sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('%s validates and compiles for every task override it carries', async (name) => {
    const doc = load(name);
    expect(validateGraph(doc).errors).toEqual([]);
    const plan = await compile(doc, { iterations: 4 });
    expect(plan.body.length).toBeGreaterThan(0);
    expect(plan.output).toBeDefined();
  });
});

/** A graph as comparable sets: node `id:kind:params`, edge `a.p→b.q`. */
function shape(doc: GraphDocument): { nodes: Map<string, string>; edges: Set<string> } {
  return {
    nodes: new Map(doc.nodes.map((n) => [n.id, `${n.kind} ${JSON.stringify(n.params)}`])),
    edges: new Set(doc.edges.map((e) => `${e.source}.${e.sourcePort}→${e.target}.${e.targetPort}`)),
  };
}

function diff(a: GraphDocument, b: GraphDocument): { nodes: string[]; edgesOnlyA: string[]; edgesOnlyB: string[] } {
  const sa = shape(a),
    sb = shape(b);
  const ids = new Set([...sa.nodes.keys(), ...sb.nodes.keys()]);
  return {
    nodes: [...ids].filter((id) => sa.nodes.get(id) !== sb.nodes.get(id)).sort(),
    edgesOnlyA: [...sa.edges].filter((e) => !sb.edges.has(e)).sort(),
    edgesOnlyB: [...sb.edges].filter((e) => !sa.edges.has(e)).sort(),
  };
}

describe('DDiff ablations', () => {
  it('DDiff-HQS is DDiff without the dual: u, its update and its wiring removed, HQS step flags', () => {
    const d = diff(load('ddiff'), load('ddiff-hqs'));
    // u, dual and u's preview gone; x: γ₀ 90, a = b = 1; noise: DDPM mode
    expect(d.nodes).toEqual(['dual', 'noise', 'preview-u', 'u', 'x']);
    expect(d.edgesOnlyA).toEqual(['dual.u→u.next', 'u.current→dual.u', 'u.current→noise.u', 'u.current→preview-u.image', 'u.current→x.u', 'x.x→dual.x', 'z.x0→dual.z']);
    expect(d.edgesOnlyB).toEqual([]);
  });

  it('Diff-PnP-HQS is Diff-PnP-ADMM without the dual', () => {
    const d = diff(load('diff-pnp-admm'), load('diff-pnp-hqs'));
    expect(d.nodes).toEqual(['dual', 'preview-u', 'u']);
    expect(d.edgesOnlyA).toEqual(['dual.u→u.next', 'u.current→dual.u', 'u.current→preview-u.image', 'u.current→scale.u', 'u.current→x.u', 'x.x→dual.x', 'z.x0→dual.z']);
    expect(d.edgesOnlyB).toEqual([]);
  });

  it('Diff-PnP-ADMM is DDiff with the noising step replaced by a deterministic √ᾱ(x + u) denoiser input', () => {
    const d = diff(load('ddiff'), load('diff-pnp-admm'));
    // the loop register holds x instead of x_t; the re-noising node becomes a noise-free scaling;
    // without an x_t there is no choice of returned iterate (Result)
    expect(d.nodes).toEqual(['noise', 'result', 'scale', 'xs', 'xt']);
    expect(d.edgesOnlyB).toContain('xs.current→scale.x');
    expect(d.edgesOnlyA).toContain('noise.xt→xt.next');
    // the data step, the dual update and the prior/schedule are shared unchanged
    for (const id of ['x', 'dual', 'z', 'prior', 'schedule', 'measure']) expect(d.nodes).not.toContain(id);
  });
});
