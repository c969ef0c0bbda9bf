/** The editor's document store and edit actions, without a browser. */
import { beforeEach, describe, expect, it } from 'vitest';
import { NODE_ROOM, addNode, connectEdge, copy, paste, removeElements, setParam, setTask } from '../editor/actions';
import { layerName, paramSource, resetToPaper, runningParams } from '../editor/effective';
import { connectionProblem } from '../editor/ports';
import { summarize } from '../editor/summary';
import { emptyGraph, isDirty, setBackend, useDocument } from './document';

const doc = () => useDocument.getState().doc;

beforeEach(() => {
  useDocument.getState().open(emptyGraph('g'), 'test');
  useDocument.setState({ past: [], future: [] }); // each test starts without the last one's history
});

describe('document store', () => {
  it('records each edit once and undoes / redoes in order', () => {
    const a = addNode('XUpdate', { x: 0, y: 0 })!;
    const b = addNode('Denoise', { x: 200, y: 0 })!;
    connectEdge({ source: b, sourceHandle: 'x0', target: a, targetHandle: 'z' });
    expect(doc().edges).toHaveLength(1);
    useDocument.getState().undo();
    expect(doc().edges).toHaveLength(0);
    useDocument.getState().undo();
    expect(doc().nodes.map((n) => n.id)).toEqual([a]);
    useDocument.getState().redo();
    useDocument.getState().redo();
    expect(doc().edges).toHaveLength(1);
    useDocument.getState().redo(); // nothing left to redo
    expect(doc().nodes).toHaveLength(2);
  });

  it('is dirty after an edit and clean after saving or undoing back', () => {
    expect(isDirty(useDocument.getState())).toBe(false);
    addNode('Output', { x: 0, y: 0 });
    expect(isDirty(useDocument.getState())).toBe(true);
    useDocument.getState().undo();
    expect(isDirty(useDocument.getState())).toBe(false);
    addNode('Output', { x: 0, y: 0 });
    useDocument.getState().markSaved('g.lagrange.json');
    expect(isDirty(useDocument.getState())).toBe(false);
    expect(useDocument.getState().source).toBe('g.lagrange.json');
  });

  it('chooses the run backend as one undoable edit; JS leaves the field out', () => {
    const before = doc();
    setBackend('onnx');
    expect(doc().run).toEqual({ seed: 0, backend: 'onnx' });
    expect(isDirty(useDocument.getState())).toBe(true);
    setBackend('js');
    expect(doc().run).toEqual({ seed: 0 }); // saved as before the choice, byte for byte
    useDocument.getState().undo();
    expect(doc().run.backend).toBe('onnx');
    useDocument.getState().undo();
    expect(doc()).toBe(before);
  });

  it('makes a whole gesture one undo step', () => {
    const id = addNode('Output', { x: 0, y: 0 })!;
    const s = useDocument.getState();
    s.beginGesture();
    for (let x = 1; x <= 5; x++) useDocument.getState().live((d) => void (d.nodes[0]!.position = { x, y: 0 }));
    useDocument.getState().endGesture();
    expect(doc().nodes.find((n) => n.id === id)!.position).toEqual({ x: 5, y: 0 });
    useDocument.getState().undo();
    expect(doc().nodes.find((n) => n.id === id)!.position).toEqual({ x: 0, y: 0 });
  });

  it('replaces the edge into an input that already has one, and deletes nodes with their edges', () => {
    const x = addNode('XUpdate', { x: 0, y: 0 })!;
    const d1 = addNode('Denoise', { x: 0, y: 0 })!;
    const d2 = addNode('Denoise', { x: 0, y: 0 })!;
    connectEdge({ source: d1, sourceHandle: 'x0', target: x, targetHandle: 'z' });
    connectEdge({ source: d2, sourceHandle: 'x0', target: x, targetHandle: 'z' });
    expect(doc().edges).toEqual([{ source: d2, sourcePort: 'x0', target: x, targetPort: 'z' }]);
    removeElements([d2], []);
    expect(doc().edges).toEqual([]);
    expect(doc().nodes.map((n) => n.id)).toEqual([x, d1]);
  });

  it('pastes copies with fresh ids, offset, and their internal edges only', () => {
    const a = addNode('Denoise', { x: 10, y: 20 })!;
    const b = addNode('XUpdate', { x: 200, y: 20 })!;
    const c = addNode('Output', { x: 400, y: 20 })!;
    connectEdge({ source: a, sourceHandle: 'x0', target: b, targetHandle: 'z' });
    connectEdge({ source: b, sourceHandle: 'x', target: c, targetHandle: 'image' });
    setParam(b, 'gamma0', 30);
    const ids = paste(copy([a, b])!);
    expect(ids).toEqual(['denoise2', 'xupdate2']);
    const pasted = doc().nodes.filter((n) => ids.includes(n.id));
    // Below the originals, clear of them: one node height down, a little to the right.
    expect(pasted.map((n) => n.position)).toEqual([
      { x: 50, y: 20 + NODE_ROOM.h },
      { x: 240, y: 20 + NODE_ROOM.h },
    ]);
    // A second paste lands clear of the first.
    const again = paste(copy([a, b])!);
    expect(
      doc()
        .nodes.filter((n) => again.includes(n.id))
        .map((n) => n.position!.y),
    ).toEqual([20 + 2 * NODE_ROOM.h, 20 + 2 * NODE_ROOM.h]);
    expect(pasted[1]!.params).toEqual({ gamma0: 30 });
    expect(doc().edges.filter((e) => ids.includes(e.source) || ids.includes(e.target))).toEqual([{ source: 'denoise2', sourcePort: 'x0', target: 'xupdate2', targetPort: 'z' }]);
  });

  it('switches the operator node to the kind of a task, keeping its id and wiring', () => {
    const op = addNode('BoxInpainting', { x: 0, y: 0 })!;
    const sim = addNode('Simulate', { x: 0, y: 0 })!;
    connectEdge({ source: op, sourceHandle: 'operator', target: sim, targetHandle: 'operator' });
    setTask('deblur-gauss');
    expect(doc().nodes[0]).toMatchObject({ id: op, kind: 'GaussianBlur', params: {} });
    expect(doc().edges).toHaveLength(1);
  });
});

describe('connection rule', () => {
  it('refuses mismatched port types with both ports named, and accepts matching ones', () => {
    const p = addNode('ScoreModel', { x: 0, y: 0 })!;
    const v = addNode('Preview', { x: 0, y: 0 })!;
    const s = addNode('Schedule', { x: 0, y: 0 })!;
    expect(connectionProblem(doc(), { source: p, sourceHandle: 'prior', target: v, targetHandle: 'image' })).toBe('scoremodel.prior is a prior but preview.image expects an image');
    expect(connectionProblem(doc(), { source: p, sourceHandle: 'prior', target: s, targetHandle: 'prior' })).toBeUndefined();
    expect(connectionProblem(doc(), { source: p, sourceHandle: 'nope', target: s, targetHandle: 'prior' })).toMatch(/connect an output/);
  });
});

describe('parameters under a task', () => {
  /** An operator with a task, an x-update whose γ₀ the box-inpainting table sets, and the paper's values. */
  function withTable(): string {
    addNode('BoxInpainting', { x: 0, y: 0 });
    const x = addNode('XUpdate', { x: 0, y: 0 })!;
    setParam(x, 'gamma0', 30);
    useDocument.getState().edit((d) => {
      d.overrides = { 'task:inpaint-box': { [x]: { gamma0: 50 } }, 'task:deblur-gauss': { [x]: { gamma0: 2.9 } } };
      d.reference = { paper: { note: 'the paper', overrides: { base: { [x]: { gamma0: 30 } }, 'task:inpaint-box': { [x]: { gamma0: 50 } } } } };
    });
    return x;
  }

  it('shows the task’s value with its origin, and an edit changes that task only (one undo step)', () => {
    const x = withTable();
    expect(paramSource(doc(), x, 'gamma0')).toMatchObject({ value: 50, layer: 'task:inpaint-box', matches: 'paper' });
    setParam(x, 'gamma0', 3000);
    expect(doc().overrides['task:inpaint-box']![x]).toEqual({ gamma0: 3000 });
    expect(doc().overrides['task:deblur-gauss']![x]).toEqual({ gamma0: 2.9 });
    expect(doc().nodes.find((n) => n.id === x)!.params.gamma0).toBe(30);
    expect(paramSource(doc(), x, 'gamma0')).toMatchObject({ value: 3000, paper: 50 });
    expect(summarize('XUpdate', runningParams(doc()).params[x]!, (p) => (runningParams(doc()).fromTable(x, p) ? 'box inpainting' : undefined))).toEqual([
      { text: 'gamma0=3000', table: 'box inpainting' },
    ]);
    resetToPaper(x, 'gamma0');
    expect(paramSource(doc(), x, 'gamma0')).toMatchObject({ value: 50, matches: 'paper' });
    useDocument.getState().undo();
    expect(doc().overrides['task:inpaint-box']![x]).toEqual({ gamma0: 3000 });
  });

  it('a parameter no table sets is edited on the node, for every task', () => {
    const x = withTable();
    setParam(x, 'tGamma', 120);
    expect(doc().nodes.find((n) => n.id === x)!.params.tGamma).toBe(120);
    expect(paramSource(doc(), x, 'tGamma')).toMatchObject({ value: 120, layer: 'base' });
    expect(layerName('task:deblur-gauss')).toBe('gaussian blur');
  });
});

describe('a retuned preset value', () => {
  it('says it is the tuned one and keeps the paper’s value one click away', () => {
    addNode('HDR', { x: 0, y: 0 });
    const x = addNode('XUpdate', { x: 0, y: 0 })!;
    useDocument.getState().edit((d) => {
      d.overrides = { 'task:hdr': { [x]: { gamma0: 0.25 } } };
      d.reference = {
        paper: { note: 'p', overrides: { 'task:hdr': { [x]: { gamma0: 3.5 } } } },
        tuned: { note: 'measured', overrides: { 'task:hdr': { [x]: { gamma0: 0.25 } } } },
      };
    });
    expect(paramSource(doc(), x, 'gamma0')).toMatchObject({ value: 0.25, matches: 'tuned', paper: 3.5, note: 'measured' });
    resetToPaper(x, 'gamma0');
    expect(paramSource(doc(), x, 'gamma0')).toMatchObject({ value: 3.5, matches: 'paper' });
    expect(paramSource(doc(), x, 'gamma0').paper).toBeUndefined();
  });
});
