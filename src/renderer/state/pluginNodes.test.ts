/** Plugin kinds in the editor, without a browser: the catalogue from a fake engine, adding, editing, undo, tasks. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogKind, NodeCatalog } from '../../protocol/catalog';
import type { EngineClient } from '../../protocol/client';
import { addNode, connectEdge, copy, paste, selectionOf, setParam, setTask } from '../editor/actions';
import { layerName } from '../editor/effective';
import { connectionProblem } from '../editor/ports';
import { summarize } from '../editor/summary';
import { kindOf, useCatalog } from './catalog';
import { emptyGraph, useDocument } from './document';

const ct: CatalogKind = {
  kind: 'ParallelBeamCT',
  title: 'Sparse-view CT',
  category: 'operator',
  doc: 'A(x) = Radon transform at the given views.',
  inputs: [],
  outputs: [{ name: 'operator', type: 'operator', doc: 'A = ct-parallel' }],
  params: { type: 'object', properties: { views: { type: 'integer', minimum: 1, maximum: 720, default: 60 } } },
  requires: [],
  task: 'ct-parallel',
  plugin: { name: 'ct', version: '0.1.0' },
};

/** An engine that answers the catalogue with the bundled kinds plus `extra`, or fails it. */
function fakeEngine(extra: CatalogKind[] | Error): EngineClient {
  const bundled = useCatalog.getInitialState().kinds;
  const answers: Record<string, unknown> = { 'presets.list': [], 'images.list': [], 'models.list': [] };
  return {
    call: (method) => {
      if (method !== 'nodes.catalog') return Promise.resolve(answers[method]) as never;
      if (extra instanceof Error) return Promise.reject(extra);
      const cat: NodeCatalog = {
        engineVersion: '0.1.0',
        kinds: [...bundled, ...extra],
        plugins: [{ name: 'ct', version: '0.1.0', status: 'loaded', kinds: ['ParallelBeamCT'] }],
        dropped: 0,
      };
      return Promise.resolve(cat) as never;
    },
    run: () => Promise.reject(new Error('no runs here')),
  };
}

const doc = () => useDocument.getState().doc;

beforeEach(() => useDocument.getState().open(emptyGraph('g'), 'test'));
afterEach(() => useCatalog.setState(useCatalog.getInitialState()));

describe('the node catalogue in the editor', () => {
  it('offers a plugin kind once the engine lists it, and stores its plugin on the node through undo, redo and paste', async () => {
    expect(addNode('ParallelBeamCT', { x: 0, y: 0 })).toBeUndefined(); // the page alone does not know it
    await useCatalog.getState().load(fakeEngine([ct]));
    expect(useCatalog.getState().kindsFrom).toBe('engine');
    const id = addNode('ParallelBeamCT', { x: 10, y: 20 })!;
    expect(doc().nodes).toEqual([{ id: 'parallelbeamct', kind: 'ParallelBeamCT', plugin: 'ct', params: {}, position: { x: 10, y: 20 } }]);
    setParam(id, 'views', 90);
    useDocument.getState().undo();
    useDocument.getState().redo();
    expect(doc().nodes[0]).toMatchObject({ plugin: 'ct', params: { views: 90 } });
    const [copyId] = paste(copy([id])!);
    expect(doc().nodes.find((n) => n.id === copyId)!.plugin).toBe('ct');
    // What is saved is the document as it stands.
    expect(JSON.parse(JSON.stringify(doc())).nodes[0].plugin).toBe('ct');
    expect(summarize('ParallelBeamCT', { views: 90 }).map((p) => p.text)).toEqual(['views=90']);
    expect(summarize('ParallelBeamCT', { views: 60 })).toEqual([]); // the schema's default is not news
  });

  it('wires a plugin operator like a built-in one and takes its task; a built-in task drops the plugin field', async () => {
    await useCatalog.getState().load(fakeEngine([ct]));
    const op = addNode('ParallelBeamCT', { x: 0, y: 0 })!;
    const sim = addNode('Simulate', { x: 200, y: 0 })!;
    expect(connectionProblem(doc(), { source: op, sourceHandle: 'operator', target: sim, targetHandle: 'operator' })).toBeUndefined();
    expect(connectionProblem(doc(), { source: op, sourceHandle: 'operator', target: sim, targetHandle: 'image' })).toMatch(/is an operator but simulate.image expects an image/);
    connectEdge({ source: op, sourceHandle: 'operator', target: sim, targetHandle: 'operator' });
    expect(selectionOf(doc()).task).toBe('ct-parallel');
    expect(layerName('task:ct-parallel')).toBe('sparse-view CT');
    setTask('deblur-gauss');
    expect(doc().nodes[0]).toEqual(expect.objectContaining({ kind: 'GaussianBlur', params: {} }));
    expect(doc().nodes[0]!.plugin).toBeUndefined();
    setTask('ct-parallel');
    expect(doc().nodes[0]).toMatchObject({ kind: 'ParallelBeamCT', plugin: 'ct' });
  });

  it('keeps the bundled kinds and says why when the engine cannot list its kinds', async () => {
    await useCatalog.getState().load(fakeEngine(new Error("unknown method 'nodes.catalog'")));
    expect(useCatalog.getState()).toMatchObject({ kindsFrom: 'bundled', catalogError: "unknown method 'nodes.catalog'" });
    expect(kindOf('XUpdate')?.title).toBeDefined();
  });

  it('lets a node of an unknown kind keep and reuse the ports its edges use', () => {
    useDocument.getState().open(
      {
        ...emptyGraph('g'),
        nodes: [
          { id: 'ct', kind: 'ParallelBeamCT', plugin: 'ct', params: { views: 90 } },
          { id: 'sim', kind: 'Simulate', params: {} },
          { id: 'sim2', kind: 'Simulate', params: {} },
        ],
        edges: [{ source: 'ct', sourcePort: 'operator', target: 'sim', targetPort: 'operator' }],
      },
      'test',
    );
    expect(connectionProblem(doc(), { source: 'ct', sourceHandle: 'operator', target: 'sim2', targetHandle: 'operator' })).toBeUndefined();
    expect(connectionProblem(doc(), { source: 'ct', sourceHandle: 'sinogram', target: 'sim2', targetHandle: 'operator' })).toMatch(/connect an output/);
  });
});
