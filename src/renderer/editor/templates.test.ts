/** Templates (a preset's loop inserted into a graph) and the parameters of nodes placed by hand. */
import { beforeEach, describe, expect, it } from 'vitest';
import { nodeKinds } from '../../nodes/index';
import type { WireGraph } from '../../protocol/messages';
import { mergedParams } from '../../protocol/params';
import { useCatalog } from '../state/catalog';
import { emptyGraph, useDocument } from '../state/document';
import { addNode, addTemplate, catalogKinds, connectEdge } from './actions';
import { bundledPrior, freshStateName, initialParams } from './initialParams';
import { anchorOf, insertTemplate } from './templates';
import daps from '../../../resources/presets/daps.lagrange.json';
import ddiffJson from '../../../resources/presets/ddiff.lagrange.json';
import ddiffHqs from '../../../resources/presets/ddiff-hqs.lagrange.json';
import admm from '../../../resources/presets/diff-pnp-admm.lagrange.json';
import hqs from '../../../resources/presets/diff-pnp-hqs.lagrange.json';
import diffpir from '../../../resources/presets/diffpir.lagrange.json';
import dps from '../../../resources/presets/dps.lagrange.json';

const PRESETS: Record<string, unknown> = { daps, ddiff: ddiffJson, 'ddiff-hqs': ddiffHqs, 'diff-pnp-admm': admm, 'diff-pnp-hqs': hqs, diffpir, dps };
const preset = (name: string): WireGraph => structuredClone(PRESETS[name]) as WireGraph;
const ddiff = preset('ddiff');
const doc = (): WireGraph => useDocument.getState().doc;
const INSTALLED = {
  models: [
    { name: 'fmnist-32', title: '', shape: [1, 32, 32], origin: 'bundled' as const },
    { name: 'fmnist-latent-8', title: '', shape: [4, 8, 8], origin: 'bundled' as const },
  ],
  images: [{ ref: 'model:fmnist-32/heldout/00.png', label: '', thumbnail: '' }],
};

/** Image → BoxInpainting → Simulate, as a user wires them. */
function measurementSide(): { image: string; op: string; sim: string } {
  const image = addNode('ImageInput', { x: 0, y: 0 })!;
  const op = addNode('BoxInpainting', { x: 0, y: 200 })!;
  const sim = addNode('Simulate', { x: 300, y: 100 })!;
  connectEdge({ source: image, sourceHandle: 'image', target: sim, targetHandle: 'image' });
  connectEdge({ source: op, sourceHandle: 'operator', target: sim, targetHandle: 'operator' });
  return { image, op, sim };
}

const loopIds = ddiff.nodes.filter((n) => !['ImageInput', 'BoxInpainting', 'Simulate'].includes(n.kind)).map((n) => n.id);

beforeEach(() => {
  useDocument.getState().open(emptyGraph('g'), 'test');
  useDocument.setState({ past: [], future: [] });
  useCatalog.setState({ models: INSTALLED.models, images: INSTALLED.images });
});

describe('templates', () => {
  it('inserts the ddiff loop wired to the selected measurement, with the preset’s parameters for every task, as one undo step', () => {
    const { sim, op } = measurementSide();
    const steps = useDocument.getState().past.length;
    const ids = addTemplate(ddiff, [sim]);
    expect(useDocument.getState().past.length).toBe(steps + 1);
    expect(ids.sort()).toEqual([...loopIds].sort());
    const d = doc();
    // The preset's measurement edges now leave the graph's Simulate; nothing of its own measurement side came.
    const fromSim = d.edges.filter((e) => e.source === sim).map((e) => `${e.target}.${e.targetPort}`);
    expect(fromSim.sort()).toEqual(['metrics.measurement', 'x.measurement']);
    expect(d.nodes.filter((n) => n.kind === 'Simulate')).toHaveLength(1);
    const inner = ddiff.edges.filter((e) => loopIds.includes(e.source) && loopIds.includes(e.target));
    for (const e of inner) expect(d.edges).toContainEqual(e);
    for (const task of Object.keys(ddiff.overrides).map((s) => s.slice(5))) {
      const got = mergedParams(d, { task });
      const want = mergedParams(ddiff, { task });
      for (const id of loopIds) expect(got[id], `${task} ${id}`).toEqual(want[id]);
      // The preset's operator overrides (phase retrieval's input range) reach the graph's operator.
      if (want.A) expect(got[op]).toEqual(want.A);
    }
    useDocument.getState().undo();
    expect(doc().nodes.map((n) => n.id)).not.toContain('xt');
  });

  it('places the loop to the right of the graph and gives fresh ids when inserted twice', () => {
    const { sim } = measurementSide();
    addTemplate(ddiff, [sim]);
    const second = addTemplate(ddiff, [sim]);
    expect(second).toContain('xt2');
    // Each loop comes with the preset's groups around its own nodes.
    expect(doc().groups!.map((g) => g.title)).toEqual([...ddiff.groups!.map((g) => g.title), ...ddiff.groups!.map((g) => g.title)]);
    expect(doc().groups!.at(-1)!.nodes).toEqual(['u2', 'dual2', 'preview-u2']);
    expect(new Set(doc().nodes.map((n) => n.id)).size).toBe(doc().nodes.length);
    const x = (id: string): number => doc().nodes.find((n) => n.id === id)!.position!.x;
    expect(x('xt')).toBeGreaterThan(x(sim));
    expect(x('xt2')).toBeGreaterThan(x('xt'));
    // Both loops close on their own States.
    expect(doc().edges).toContainEqual({ source: 'noise2', sourcePort: 'xt', target: 'xt2', targetPort: 'next' });
    expect(doc().overrides['task:sr4']!.x2).toEqual({ gamma0: 18 });
  });

  it('attaches to the measurement a selected operator feeds, or brings the preset’s Simulate and image for a bare operator', () => {
    const { sim, op } = measurementSide();
    expect(anchorOf(doc(), [op], catalogKinds)).toEqual({ measurement: sim, port: 'measurement', operator: op });
    useDocument.getState().open(emptyGraph('g'), 'test');
    const bare = addNode('GaussianBlur', { x: 0, y: 0 })!;
    const ids = addTemplate(ddiff, [bare]);
    expect(ids).toEqual(expect.arrayContaining(['image', 'measure']));
    expect(doc().edges).toContainEqual({ source: bare, sourcePort: 'operator', target: 'measure', targetPort: 'operator' });
    expect(doc().nodes.some((n) => n.kind === 'BoxInpainting')).toBe(false);
  });

  it('leaves the measurement inputs open on a graph without a measurement, and attaches to the only one without a selection', () => {
    const d = emptyGraph('g');
    insertTemplate(d, ddiff, anchorOf(d, [], catalogKinds), catalogKinds);
    expect(d.nodes.map((n) => n.id).sort()).toEqual([...loopIds].sort());
    expect(d.edges.some((e) => e.targetPort === 'measurement')).toBe(false);
    const { sim } = measurementSide();
    expect(anchorOf(doc(), [], catalogKinds)).toMatchObject({ measurement: sim });
  });

  it('works for every shipped preset: the loop keeps all of its nodes and inner edges', () => {
    for (const name of ['ddiff-hqs', 'diffpir', 'dps', 'daps', 'diff-pnp-admm', 'diff-pnp-hqs']) {
      useDocument.getState().open(emptyGraph('g'), 'test');
      const { sim } = measurementSide();
      const p = preset(name);
      const ids = addTemplate(p, [sim]);
      expect(ids.length, name).toBe(p.nodes.length - 3);
      expect(doc().edges.filter((e) => e.source === sim).length, name).toBe(p.edges.filter((e) => e.source === 'measure').length);
    }
  });
});

describe('nodes placed by hand', () => {
  it('get distinct State names, the bundled image prior and its held-out picture', () => {
    const a = addNode('State', { x: 0, y: 0 })!;
    const b = addNode('State', { x: 0, y: 100 })!;
    const c = addNode('State', { x: 0, y: 200 })!;
    expect([a, b, c].map((id) => doc().nodes.find((n) => n.id === id)!.params.name)).toEqual(['x', 'z', 'u']);
    const prior = addNode('ScoreModel', { x: 0, y: 300 })!;
    expect(doc().nodes.find((n) => n.id === prior)!.params).toEqual({ source: 'bundled', model: 'fmnist-32' });
    expect(initialParams('ImageInput', doc(), INSTALLED)).toEqual({ source: 'model:fmnist-32/heldout/00.png' });
    expect(bundledPrior(INSTALLED.models.slice(1))).toBeUndefined(); // a latent prior is no pixel prior
    expect(initialParams('ScoreModel', doc(), { models: [], images: [] })).toEqual({}); // nothing installed: the declaration's default
  });

  it('names a State after the registers still free, whatever the others were renamed to', () => {
    const g = emptyGraph('g');
    g.nodes.push(...STATES.map((name, i) => ({ id: `s${i}`, kind: 'State', params: { name } })));
    expect(freshStateName(g)).toBe('s1');
    g.nodes.push({ id: 'old', kind: 'State', params: {} }); // stored without a name: the default x
    expect(freshStateName({ ...g, nodes: g.nodes.slice(-1) })).toBe('z');
  });

  it('keeps saved documents meaning what they meant: stored parameters are never rewritten and the declarations’ defaults stay', () => {
    const saved: WireGraph = {
      ...emptyGraph('saved'),
      nodes: [
        { id: 'prior', kind: 'ScoreModel', params: {} },
        { id: 'xt', kind: 'State', params: {} },
        { id: 'u', kind: 'State', params: {} },
        { id: 'image', kind: 'ImageInput', params: {} },
      ],
    };
    useDocument.getState().open(saved, 'saved.lagrange.json');
    addNode('State', { x: 0, y: 0 }); // an edit after opening
    const after = doc();
    for (const n of saved.nodes) expect(after.nodes.find((m) => m.id === n.id)!.params).toEqual({});
    // What `params: {}` means is what the declarations give, unchanged by the editor's initial values.
    const kinds = new Map(nodeKinds().map((k) => [k.kind, k]));
    expect(kinds.get('State')!.params.parse({})).toMatchObject({ name: 'x', init: 'zeros' });
    expect(kinds.get('ScoreModel')!.params.parse({})).toMatchObject({ source: 'gaussian' });
    expect(kinds.get('ImageInput')!.params.parse({})).toMatchObject({ source: 'sample:astronaut' });
  });
});

const STATES = ['x', 'z', 'u', 'x_t', 'v', 'w'];
