/**
 * Each built-in operator's parameter schema is declared once (src/nodes/operatorParams.ts): the
 * node kind takes the spec's own field schemas, each made optional, so a range or an enum cannot
 * drift between what the inspector offers and what the operator accepts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { operatorNodeKinds } from '../../nodes/index';
import { operatorSpec } from './registry';

describe('operator node kinds and specs', () => {
  const kinds = operatorNodeKinds();

  it('covers every built-in task and the ONNX operator folder', () => {
    expect(kinds.map((k) => k.task)).toEqual(
      expect.arrayContaining(['sr4', 'inpaint-box', 'inpaint-random', 'deblur-gauss', 'deblur-motion', 'phase-retrieval', 'deblur-nonlinear', 'hdr', 'onnx-operator']),
    );
  });

  it.each(kinds.map((k) => [k.kind, k] as const))('%s declares the schema of its operator, each key optional', (_, kind) => {
    const spec = operatorSpec(kind.task);
    const node = kind.params as z.ZodObject<Record<string, z.ZodType>>;
    const full = spec.params as z.ZodObject<Record<string, z.ZodType>>;
    expect(node).toBeInstanceOf(z.ZodObject);
    for (const [name, field] of Object.entries(node.shape)) {
      const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
      const own = full.shape[name]!;
      // The very schema object, not a copy: the same checks run in the inspector and the operator.
      expect(inner === own || (own instanceof z.ZodOptional && inner === own.unwrap()), `${kind.kind}.${name}`).toBe(true);
      expect(node.safeParse({}).success).toBe(true);
    }
    // The node leaves out only what a measurement bundle records (the ONNX folder's digest).
    expect(Object.keys(full.shape).filter((k) => !(k in node.shape))).toEqual(kind.task === 'onnx-operator' ? ['digest'] : []);
  });

  it('refuses the same out-of-range value in the node and in the operator', () => {
    const node = kinds.find((k) => k.task === 'inpaint-box')!;
    expect(node.params.safeParse({ boxHeight: 5000 }).success).toBe(false);
    expect(operatorSpec('inpaint-box').params.safeParse({ placement: 'center', boxHeight: 5000, boxWidth: 8, margin: 0 }).success).toBe(false);
  });
});
