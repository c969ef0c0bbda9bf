/**
 * Inlining models into a graph: several outputs, multi-output nodes (Split, as exported networks
 * use it), prefixes keeping two copies apart, and refusals that say what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { GraphBuilder, i64 } from './builder';
import { inlineModelOutputs, modelSignature } from './inline';
import { openSession } from './session';

/** x [2, 4] → (left half + 1, right half × 2) through one Split node. */
function splitModel(): Uint8Array {
  const g = new GraphBuilder('split');
  const x = g.input('x', [2, 4]);
  const [a, b] = g.nodeOutputs('Split', [x, g.constant(i64([2], [2, 2]))], { axis: { i: 1 } }, ['a', 'b']);
  g.output(g.node('Add', [a!, g.scalar(1)]), 'left', [2, 2]);
  g.output(g.node('Mul', [b!, g.scalar(2)]), 'right', [2, 2]);
  return g.toBytes();
}

describe('inlineModelOutputs', () => {
  it('copies a multi-output node and returns every output, twice under two prefixes', async () => {
    const g = new GraphBuilder('outer');
    const x = g.input('x', [2, 4]);
    const one = inlineModelOutputs(g, splitModel(), { x }, 'one');
    const two = inlineModelOutputs(g, splitModel(), { x: g.node('Neg', [x]) }, 'two');
    g.output(g.node('Add', [one.left!, two.right!]), 'y', [2, 2]);
    const model = g.toBytes();
    expect(modelSignature(model).inputs.map((i) => i.name)).toEqual(['x']);
    const s = await openSession(model, ['cpu']);
    const { y } = await s.run({ x: tensor([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]) });
    await s.release();
    // left = x[:, :2] + 1, right of −x = −2·x[:, 2:]
    expect(Array.from(y!.data)).toEqual([1 + 1 - 6, 2 + 1 - 8, 5 + 1 - 14, 6 + 1 - 16]);
  });

  it('names a missing input', () => {
    const g = new GraphBuilder('outer');
    expect(() => inlineModelOutputs(g, splitModel(), {}, 'net')).toThrow("inline net: no value given for the model's input 'x'");
  });
});
