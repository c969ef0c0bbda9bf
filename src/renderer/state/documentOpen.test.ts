/** Opening another document is undoable; auto-layout on opening leaves it unmodified. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { WireGraph } from '../../protocol/messages';
import { emptyGraph, isDirty, useDocument } from './document';

const graph = (name: string): WireGraph => ({ ...emptyGraph(name), nodes: [{ id: 'out', kind: 'Output', params: {}, position: { x: 0, y: 0 } }] });
const s = () => useDocument.getState();

beforeEach(() => {
  s().open(emptyGraph(), 'untitled');
  useDocument.setState({ past: [], future: [] });
});

describe('opening a document', () => {
  it('can be undone back to the document open before, with its name and unsaved edits, and redone', () => {
    s().open(graph('a'), 'a.lagrange.json');
    s().edit((d) => void (d.run.seed = 4)); // unsaved
    const edited = s().doc;
    s().open(graph('b'), 'b');
    expect([s().doc.name, s().source, isDirty(s())]).toEqual(['b', 'b', false]);
    const opened = s().opened;

    s().undo();
    expect(s().doc).toBe(edited);
    expect([s().source, isDirty(s())]).toEqual(['a.lagrange.json', true]);
    expect(s().opened).toBe(opened + 1); // the view frames the document it returned to
    s().undo();
    expect([s().doc.run.seed, isDirty(s())]).toEqual([0, false]);

    s().redo();
    s().redo();
    expect([s().doc.name, s().source, isDirty(s())]).toEqual(['b', 'b', false]);
  });

  it('keeps no history entry for the empty graph the studio starts with', () => {
    s().open(graph('a'), 'a');
    expect(s().past).toEqual([]);
  });

  it('undoes within one document without counting it as another opening', () => {
    s().open(graph('a'), 'a');
    s().edit((d) => void (d.run.seed = 1));
    const opened = s().opened;
    s().undo();
    expect(s().opened).toBe(opened);
  });
});

describe('arrange', () => {
  const at = new Map([['out', { x: 300, y: 40 }]]);

  it('as part of opening: moves the nodes with no history step and the document stays unmodified', () => {
    s().open(graph('a'), 'a');
    s().arrange(at, true);
    expect(s().doc.nodes[0]!.position).toEqual({ x: 300, y: 40 });
    expect([s().past.length, isDirty(s())]).toEqual([0, false]);
  });

  it('on request: one undo step', () => {
    s().open(graph('a'), 'a');
    s().arrange(at, false);
    expect(isDirty(s())).toBe(true);
    s().undo();
    expect(s().doc.nodes[0]!.position).toEqual({ x: 0, y: 0 });
  });

  it('as part of opening, undone across: returns to the laid-out document unmodified', () => {
    s().open(graph('a'), 'a');
    s().arrange(at, true);
    s().open(graph('b'), 'b');
    s().undo();
    expect([s().doc.nodes[0]!.position, isDirty(s()), s().source]).toEqual([{ x: 300, y: 40 }, false, 'a']);
  });
});
