/** Groups in the graph document: optional (old documents load unchanged), strict, and ignored by the engine. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { validateGraph } from '../src/engine/graph/validate';

const ddiff = (): Record<string, unknown> => JSON.parse(readFileSync(resolve(import.meta.dirname, '../resources/presets/ddiff.lagrange.json'), 'utf8')) as Record<string, unknown>;
const withoutGroups = (): Record<string, unknown> => {
  const { groups: _groups, ...rest } = ddiff();
  return rest;
};

describe('graph groups', () => {
  it('loads documents without groups as before, and keeps groups when present', () => {
    expect(parseGraph(withoutGroups()).groups).toBeUndefined();
    const doc = { ...withoutGroups(), groups: [{ id: 'g1', title: 'dual', nodes: ['u', 'dual'], collapsed: true }] };
    expect(parseGraph(doc).groups).toEqual([{ id: 'g1', title: 'dual', nodes: ['u', 'dual'], collapsed: true }]);
  });

  it('ships DDiff with its three steps as groups of existing nodes', () => {
    const doc = parseGraph(ddiff());
    expect(doc.groups!.map((g) => g.id)).toEqual(['z-update', 'x-update', 'dual']);
    for (const g of doc.groups!) for (const n of g.nodes) expect(doc.nodes.map((m) => m.id)).toContain(n);
  });

  it('refuses a malformed group naming its path', () => {
    const doc = { ...withoutGroups(), groups: [{ id: 'g1', title: 'dual', nodes: ['u'], colapsed: true }] };
    expect(() => parseGraph(doc)).toThrow(/groups\[0\]/);
    expect(() => parseGraph({ ...withoutGroups(), groups: [{ id: 'g1', title: 'x', nodes: 'u' }] })).toThrow(/groups\[0\]\.nodes/);
  });

  it('is ignored by validation and compilation: the same problems and the same per-iteration body', async () => {
    const plain = parseGraph(withoutGroups());
    const grouped = parseGraph({ ...withoutGroups(), groups: [{ id: 'g1', title: 'loop', nodes: ['xt', 'z', 'x', 'noise', 'u', 'dual', 'nowhere'] }] });
    expect(validateGraph(grouped)).toEqual(validateGraph(plain));
    const [a, b] = await Promise.all([compile(plain), compile(grouped)]);
    expect(b.body).toEqual(a.body);
    expect(b.body.map((s) => s.id)).toContain('dual');
  });
});
