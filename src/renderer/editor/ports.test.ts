/** The canvas's connection rule for latents: shape-agnostic steps take them, image-only ports do not. */
import { beforeEach, describe, expect, it } from 'vitest';
import { addNode } from './actions';
import { connectionProblem } from './ports';
import { emptyGraph, useDocument } from '../state/document';

const doc = () => useDocument.getState().doc;

beforeEach(() => useDocument.getState().open(emptyGraph('g'), 'test'));

describe('connection rule, latents', () => {
  it('lets a latent into and out of a State or Denoise (the engine resolves the space) and refuses it where only images go', () => {
    const enc = addNode('Encoder', { x: 0, y: 0 })!;
    const st = addNode('State', { x: 0, y: 0 })!;
    const den = addNode('Denoise', { x: 0, y: 0 })!;
    const dec = addNode('Decoder', { x: 0, y: 0 })!;
    const pv = addNode('Preview', { x: 0, y: 0 })!;
    const sim = addNode('Simulate', { x: 0, y: 0 })!;
    expect(connectionProblem(doc(), { source: enc, sourceHandle: 'z', target: st, targetHandle: 'next' })).toBeUndefined();
    expect(connectionProblem(doc(), { source: st, sourceHandle: 'current', target: dec, targetHandle: 'z' })).toBeUndefined();
    expect(connectionProblem(doc(), { source: den, sourceHandle: 'x0', target: dec, targetHandle: 'z' })).toBeUndefined();
    expect(connectionProblem(doc(), { source: enc, sourceHandle: 'z', target: pv, targetHandle: 'image' })).toBe(`${enc}.z is a latent but ${pv}.image expects an image`);
    expect(connectionProblem(doc(), { source: dec, sourceHandle: 'image', target: sim, targetHandle: 'image' })).toBeUndefined();
    expect(connectionProblem(doc(), { source: enc, sourceHandle: 'z', target: sim, targetHandle: 'image' })).toMatch(/is a latent but .* expects an image/);
  });
});
