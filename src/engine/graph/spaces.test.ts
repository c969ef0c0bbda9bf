/**
 * Space resolution on small documents (no model files): anySpace ports follow their wiring through
 * chains of shape-agnostic steps, an undecided node is an image node, and a node pulled into both
 * spaces is reported on the edge that disagrees.
 */
import { describe, expect, it } from 'vitest';
import type { GraphDocument } from './format';
import { portTypesMeet, resolveSpaces } from './spaces';
import { nodeKind } from '../../nodes/index';

type Wire = [string, string, string, string];
const doc = (nodes: [string, string][], wires: Wire[]): GraphDocument =>
  ({
    format: 'lagrange-graph',
    version: 1,
    name: 'spaces',
    description: '',
    nodes: nodes.map(([id, kind]) => ({ id, kind, params: {}, position: { x: 0, y: 0 } })),
    edges: wires.map(([source, sourcePort, target, targetPort]) => ({ source, sourcePort, target, targetPort })),
    run: { seed: 0 },
    models: {},
    overrides: {},
  }) as GraphDocument;

const NODES: [string, string][] = [
  ['prior', 'LatentScoreModel'],
  ['zt', 'State'],
  ['z', 'Denoise'],
  ['noise', 'ZUpdate'],
  ['pv', 'Preview'],
];

describe('resolveSpaces', () => {
  it('carries a latent prior’s space through Denoise, State and ZUpdate', () => {
    const s = resolveSpaces(
      doc(NODES, [
        ['prior', 'prior', 'z', 'prior'],
        ['zt', 'current', 'z', 'xt'],
        ['zt', 'current', 'noise', 'xt'],
        ['z', 'x0', 'noise', 'x'],
        ['noise', 'xt', 'zt', 'next'],
      ]),
    );
    expect(s.issues).toEqual([]);
    expect(['z', 'zt', 'noise'].map(s.of)).toEqual(['latent', 'latent', 'latent']);
    expect(s.of('pv')).toBe('image');
  });

  it('leaves an undecided chain in image space', () => {
    const s = resolveSpaces(doc(NODES.slice(1), [['zt', 'current', 'noise', 'xt']]));
    expect([s.of('zt'), s.of('noise')]).toEqual(['image', 'image']);
  });

  it('reports the edge that pulls a latent chain into an image port', () => {
    const s = resolveSpaces(
      doc(NODES, [
        ['prior', 'prior', 'z', 'prior'],
        ['zt', 'current', 'z', 'xt'],
        ['zt', 'current', 'pv', 'image'],
      ]),
    );
    expect(s.issues).toHaveLength(1);
    expect(s.issues[0]).toMatchObject({ path: 'edges[2]', nodeId: 'pv' });
    expect(s.issues[0]!.message).toContain(`node "zt" (State) output 'current' is in the space of its node, a latent`);
  });

  it('lets image meet latent only where the image end is anySpace', () => {
    const port = (kind: string, side: 'inputs' | 'outputs', name: string) => nodeKind(kind)![side].find((p) => p.name === name)!;
    expect(portTypesMeet(port('State', 'outputs', 'current'), port('LatentXUpdate', 'inputs', 'z'))).toBe(true);
    expect(portTypesMeet(port('Encoder', 'outputs', 'z'), port('Preview', 'inputs', 'image'))).toBe(false);
    expect(portTypesMeet(port('Encoder', 'outputs', 'z'), port('Denoise', 'inputs', 'xt'))).toBe(true);
  });
});
