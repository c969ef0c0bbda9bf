/** Group edits and what a collapsed group shows, on the document store. */
import { beforeEach, describe, expect, it } from 'vitest';
import ddiffJson from '../../../resources/presets/ddiff.lagrange.json';
import type { WireGraph } from '../../protocol/messages';
import { emptyGraph, useDocument } from '../state/document';
import { groupSelection, removeElements, ungroupSelection } from './actions';
import { documentEnd, frameId, groupNodes, groupPorts, pruneGroups, updateGroup, viewEdge } from './groups';
import { collapsedMembers, groupNodes as groupViews } from './groupView';

/** The DDiff preset without the groups it ships, so each test starts from none. */
const ddiff = (): WireGraph => {
  const d = structuredClone(ddiffJson) as WireGraph;
  delete d.groups;
  return d;
};
const doc = (): WireGraph => useDocument.getState().doc;

beforeEach(() => {
  useDocument.getState().open(ddiff(), 'ddiff');
  useDocument.setState({ past: [], future: [] });
});

describe('groups', () => {
  it('groups a selection as one undo step, moves nodes out of their old group, and ungroups back to a document without the field', () => {
    const g = groupSelection(['u', 'dual', 'no-such-node'])!;
    expect(doc().groups).toEqual([{ id: g, title: 'Group', nodes: ['u', 'dual'] }]);
    const h = groupSelection(['dual', 'x'], 'x-update')!;
    expect(h).not.toBe(g);
    expect(doc().groups).toEqual([
      { id: g, title: 'Group', nodes: ['u'] },
      { id: h, title: 'x-update', nodes: ['dual', 'x'] },
    ]);
    ungroupSelection(['u', 'x']);
    expect('groups' in doc()).toBe(false);
    useDocument.getState().undo();
    useDocument.getState().undo();
    expect(doc().groups).toHaveLength(1);
    expect(groupSelection([])).toBeUndefined();
  });

  it('forgets deleted members and groups left empty', () => {
    groupSelection(['u', 'dual']);
    removeElements(['dual'], []);
    expect(doc().groups![0]!.nodes).toEqual(['u']);
    removeElements(['u'], []);
    expect(doc().groups).toBeUndefined();
    const d = ddiff();
    d.groups = [{ id: 'g1', title: 't', nodes: ['gone'] }];
    pruneGroups(d);
    expect(d.groups).toBeUndefined();
  });

  it('shows a collapsed group with the member ports wired across its border, and draws edges to them', () => {
    const d = ddiff();
    const id = groupNodes(d, ['u', 'dual'], 'dual')!;
    const ports = groupPorts(d, d.groups![0]!);
    expect(ports.inputs.map((p) => p.handle)).toEqual(['dual.x', 'dual.z']);
    expect(ports.outputs.map((p) => p.handle)).toEqual(['u.current']);
    updateGroup(d, id, { collapsed: true });
    const inside = collapsedMembers(d);
    expect([...inside.keys()]).toEqual(['u', 'dual']);
    const of = (n: string) => inside.get(n);
    expect(viewEdge({ source: 'x', sourcePort: 'x', target: 'dual', targetPort: 'x' }, of)).toEqual({
      source: 'x',
      sourceHandle: 'x',
      target: frameId(id),
      targetHandle: 'dual.x',
    });
    expect(viewEdge({ source: 'dual', sourcePort: 'u', target: 'u', targetPort: 'next' }, of)).toBeUndefined();
    // A connection drawn to the collapsed node's handle lands on the member's port.
    expect(documentEnd(frameId(id), 'dual.z')).toEqual({ node: 'dual', port: 'z' });
    expect(documentEnd('x', 'z')).toEqual({ node: 'x', port: 'z' });
    updateGroup(d, id, { collapsed: false });
    expect(d.groups![0]).toEqual({ id, title: 'dual', nodes: ['u', 'dual'] });
  });

  it('draws an expanded frame around its members’ measured boxes, title bar above', () => {
    const d = emptyGraph('g');
    d.nodes.push({ id: 'a', kind: 'Output', params: {}, position: { x: 100, y: 50 } }, { id: 'b', kind: 'Output', params: {}, position: { x: 400, y: 300 } });
    groupNodes(d, ['a', 'b'], 'out');
    const drawn = [
      { id: 'a', position: { x: 100, y: 50 }, measured: { width: 200, height: 80 } },
      { id: 'b', position: { x: 400, y: 300 }, measured: { width: 180, height: 60 } },
    ];
    const [f] = groupViews(d, drawn, new Set());
    expect(f!.position).toEqual({ x: 100 - 16, y: 50 - 16 - 26 });
    expect([f!.data.width, f!.data.height]).toEqual([580 - 100 + 32, 360 - 50 + 32 + 26]);
    expect(f!.zIndex).toBe(-1);
  });
});
