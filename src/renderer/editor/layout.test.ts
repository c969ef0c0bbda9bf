/** Auto-layout: every shipped preset laid out with no two nodes overlapping, loops read left to right. */
import { describe, expect, it } from 'vitest';
import { nodeKind } from '../../nodes/index';
import daps from '../../../resources/presets/daps.lagrange.json';
import ddiff from '../../../resources/presets/ddiff.lagrange.json';
import ddiffHqs from '../../../resources/presets/ddiff-hqs.lagrange.json';
import admm from '../../../resources/presets/diff-pnp-admm.lagrange.json';
import hqs from '../../../resources/presets/diff-pnp-hqs.lagrange.json';
import diffpir from '../../../resources/presets/diffpir.lagrange.json';
import dps from '../../../resources/presets/dps.lagrange.json';
import type { LayoutBox, LayoutEdge } from './layout';
import { autoLayout, elkGraph } from './layout';

type Doc = { nodes: { id: string; kind: string }[]; edges: LayoutEdge[] };
const presets: Record<string, Doc> = { daps, ddiff, 'ddiff-hqs': ddiffHqs, 'diff-pnp-admm': admm, 'diff-pnp-hqs': hqs, diffpir, dps };

/** Boxes as the canvas would measure them: a 30 px title, 20 px per port row, widths that vary. */
function boxes(doc: Doc): LayoutBox[] {
  return doc.nodes.map((n, i) => {
    const k = nodeKind(n.kind)!;
    const rows = Math.max(k.inputs.length, k.outputs.length);
    const width = 180 + (i % 3) * 40;
    return {
      id: n.id,
      width,
      height: 40 + 20 * rows + (n.kind === 'Preview' ? 70 : 0),
      ports: [
        ...k.inputs.map((p, r) => ({ name: p.name, side: 'in' as const, x: 0, y: 40 + 20 * r })),
        ...k.outputs.map((p, r) => ({ name: p.name, side: 'out' as const, x: width, y: 40 + 20 * r })),
      ],
    };
  });
}

describe('autoLayout', () => {
  it.each(Object.entries(presets))('lays %s out without overlaps', async (_, doc) => {
    const b = boxes(doc);
    const at = await autoLayout(b, doc.edges);
    expect([...at.keys()].sort()).toEqual(doc.nodes.map((n) => n.id).sort());
    const rect = (x: LayoutBox) => ({ ...at.get(x.id)!, w: x.width, h: x.height });
    for (const [i, p] of b.entries())
      for (const q of b.slice(i + 1)) {
        const [r, s] = [rect(p), rect(q)];
        const apart = r.x + r.w <= s.x || s.x + s.w <= r.x || r.y + r.h <= s.y || s.y + s.h <= r.y;
        expect(apart, `${p.id} overlaps ${q.id}`).toBe(true);
      }
  });

  it('keeps loop edges out of the layering: a State comes before the nodes that compute its next value', async () => {
    const at = await autoLayout(boxes(ddiff), ddiff.edges);
    for (const e of ddiff.edges.filter((e) => e.targetPort === 'next')) expect(at.get(e.target)!.x, `${e.target} left of ${e.source}`).toBeLessThan(at.get(e.source)!.x);
    expect(elkGraph(boxes(ddiff), ddiff.edges).edges).toHaveLength(ddiff.edges.length - ddiff.edges.filter((e) => e.targetPort === 'next').length);
  });

  it('keeps each group together: no other node inside the box around its members, with room for the frame', async () => {
    const groups = [
      { id: 'z-update', nodes: ['xt', 'z'] },
      { id: 'dual', nodes: ['u', 'dual'] },
    ];
    const b = boxes(ddiff);
    const at = await autoLayout(b, ddiff.edges, groups);
    expect([...at.keys()].sort()).toEqual(ddiff.nodes.map((n) => n.id).sort());
    const box = new Map(b.map((x) => [x.id, { ...at.get(x.id)!, w: x.width, h: x.height }]));
    for (const g of groups) {
      const m = g.nodes.map((id) => box.get(id)!);
      // The frame: the members' box, 16 px around and a 26 px title bar above.
      const f = {
        x: Math.min(...m.map((r) => r.x)) - 16,
        y: Math.min(...m.map((r) => r.y)) - 42,
        x1: Math.max(...m.map((r) => r.x + r.w)) + 16,
        y1: Math.max(...m.map((r) => r.y + r.h)) + 16,
      };
      for (const [id, r] of box) {
        if (g.nodes.includes(id)) continue;
        const apart = r.x + r.w <= f.x || f.x1 <= r.x || r.y + r.h <= f.y || f.y1 <= r.y;
        expect(apart, `${id} inside group ${g.id}`).toBe(true);
      }
    }
    expect(elkGraph(b, ddiff.edges, groups).children!.filter((c) => c.id.startsWith('group:'))).toHaveLength(2);
  });
});
