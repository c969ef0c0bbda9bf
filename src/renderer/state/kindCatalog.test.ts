import { describe, expect, it } from 'vitest';
import { nodeKinds } from '../../nodes/index';
import type { CatalogKind, NodeCatalog } from '../../protocol/catalog';
import type { WireGraph } from '../../protocol/messages';
import { bundledCatalog, mergeKinds, missingKindMessage, missingKindShort, storedFields, storedPorts, taskKinds } from './kindCatalog';

const bundled = bundledCatalog(nodeKinds());
const ct: CatalogKind = {
  kind: 'ParallelBeamCT',
  title: 'Sparse-view CT',
  category: 'operator',
  doc: 'A(x) = Radon transform at the given views.',
  inputs: [],
  outputs: [{ name: 'operator', type: 'operator', doc: 'A = ct-parallel' }],
  params: { type: 'object', properties: { views: { type: 'integer', minimum: 1, default: 60 } } },
  requires: [],
  task: 'ct-parallel',
  plugin: { name: 'ct', version: '0.1.0' },
};
const engine = (kinds: CatalogKind[]): NodeCatalog => ({ engineVersion: '0.1.0', kinds, plugins: [], dropped: 0 });

describe('bundledCatalog', () => {
  it('gives every bundled kind in wire form, operator kinds with their task', () => {
    expect(bundled.map((k) => k.kind)).toEqual(nodeKinds().map((k) => k.kind));
    expect(bundled.find((k) => k.kind === 'GaussianBlur')).toMatchObject({ task: 'deblur-gauss', plugin: 'builtin', category: 'operator' });
    expect(bundled.find((k) => k.kind === 'State')!.params.properties!.init).toMatchObject({ enum: ['zeros', 'noise', 'input', 'adjoint'], default: 'zeros' });
  });
});

describe('mergeKinds', () => {
  it('offers the bundled kinds until the engine answers, then exactly the engine’s', () => {
    expect(mergeKinds(bundled, undefined)).toEqual(bundled);
    const merged = mergeKinds(bundled, engine([...bundled.filter((k) => k.kind !== 'HDR'), ct]));
    expect(merged.map((k) => k.kind)).toContain('ParallelBeamCT');
    expect(merged.map((k) => k.kind)).not.toContain('HDR'); // the engine cannot compile what it does not list
    expect(merged.find((k) => k.kind === 'ParallelBeamCT')!.plugin).toEqual({ name: 'ct', version: '0.1.0' });
  });

  it('offers as tasks the built-in task table and every plugin operator, not the ONNX folder operator', () => {
    const tasks = taskKinds(mergeKinds(bundled, engine([...bundled, ct]))).map((k) => k.task);
    expect(tasks).toEqual(['sr4', 'inpaint-box', 'inpaint-random', 'deblur-gauss', 'deblur-motion', 'phase-retrieval', 'deblur-nonlinear', 'hdr', 'ct-parallel']);
  });

  it('keeps a kind with a category this page has no style for, as an update node, and drops duplicates', () => {
    const odd = { ...ct, kind: 'Odd', category: 'tomography' as CatalogKind['category'] };
    const merged = mergeKinds([], engine([odd, { ...odd, title: 'second' }]));
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ kind: 'Odd', category: 'update', title: 'Sparse-view CT' });
  });
});

const doc: WireGraph = {
  format: 'lagrange-graph',
  version: 1,
  name: 'ct',
  description: '',
  nodes: [
    { id: 'ct', kind: 'ParallelBeamCT', plugin: 'ct', params: { views: 90, geometry: { fan: false } } },
    { id: 'img', kind: 'ImageInput', params: {} },
    { id: 'sim', kind: 'Simulate', params: {} },
  ],
  edges: [
    { source: 'ct', sourcePort: 'operator', target: 'sim', targetPort: 'operator' },
    { source: 'img', sourcePort: 'image', target: 'ct', targetPort: 'x' },
  ],
  run: { seed: 0 },
  models: {},
  overrides: {},
};

describe('a node whose kind the engine does not know', () => {
  const lookup = (k: string): CatalogKind | undefined => bundled.find((b) => b.kind === k);
  it('keeps the ports its edges use, typed from the other end', () => {
    const p = storedPorts(doc, 'ct', lookup);
    expect(p.inputs.map((x) => `${x.name}:${x.type}`)).toEqual(['x:image']);
    expect(p.outputs.map((x) => `${x.name}:${x.type}`)).toEqual(['operator:operator']);
  });
  it('names the plugin to install, or why it was refused', () => {
    expect(missingKindMessage(doc.nodes[0]!)).toMatch(/plugin 'ct', which is not installed/);
    expect(missingKindMessage(doc.nodes[0]!, [{ name: 'ct', status: 'refused', reason: 'adjoint test failed (3e-2 > 1e-5)', kinds: [] }])).toMatch(
      /refused at load: adjoint test failed/,
    );
    expect(missingKindMessage({ kind: 'Mystery' })).toMatch(/names no plugin/);
    expect(missingKindShort(doc.nodes[0]!)).toBe("needs plugin 'ct' (not installed)");
    expect(missingKindShort(doc.nodes[0]!, [{ name: 'ct', status: 'refused', kinds: [] }])).toBe("needs plugin 'ct' (refused at load)");
  });
  it('edits its stored parameters by their value types', () => {
    expect(storedFields(doc.nodes[0]!.params).map((f) => `${f.name}:${f.control}`)).toEqual(['views:number', 'geometry:json']);
  });
});
