/**
 * The bounds in protocol/limits.ts are the ones node kinds and the wire protocol enforce: node
 * kinds write them out (they import no values of ours), so this checks they agree, and that each
 * bound refuses one past it.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { nodeKind } from '../src/nodes/index';
import { LIMITS, shownValue, tooDeep } from '../src/protocol/limits';
import { runRequestSchema } from '../src/protocol/messages';

const maxOf = (kind: string, param: string): number | undefined => {
  const k = nodeKind(kind)!;
  const shape = (k.params as z.ZodObject).shape as Record<string, z.ZodType>;
  return (z.toJSONSchema(shape[param]!, { io: 'input', unrepresentable: 'any' }) as { maximum?: number }).maximum;
};

describe('limits', () => {
  it.each([
    ['Schedule', 'iterations', LIMITS.iterations],
    ['AnnealedLangevin', 'steps', LIMITS.steps],
    ['ProbabilityFlowODE', 'steps', LIMITS.steps],
    ['Preview', 'every', LIMITS.every],
    ['Metrics', 'every', LIMITS.every],
    ['ImageInput', 'size', LIMITS.imageSide],
  ])('%s.%s is at most the limit (%d) and refuses one more', (kind, param, limit) => {
    expect(maxOf(kind, param)).toBe(limit);
    expect(nodeKind(kind)!.params.safeParse({ [param]: limit + 1 }).success).toBe(false);
  });

  it('run requests use the same iteration and sample bounds', () => {
    expect(runRequestSchema.safeParse({ doc: {}, iterations: LIMITS.iterations }).success).toBe(true);
    expect(runRequestSchema.safeParse({ doc: {}, iterations: LIMITS.iterations + 1 }).success).toBe(false);
    expect(runRequestSchema.safeParse({ doc: {}, samples: LIMITS.samples + 1 }).success).toBe(false);
  });

  it('shownValue cuts long values and says how long they were; tooDeep finds the first deep path', () => {
    expect(shownValue('abc')).toBe('"abc"');
    expect(shownValue('x'.repeat(1000), 10)).toBe('"xxxxxxxxx… (1002 characters)');
    expect(shownValue(undefined)).toBe('undefined');
    expect(tooDeep({ a: [[1]] }, 3)).toBeUndefined();
    expect(tooDeep({ a: [[[1]]] }, 3)).toBe('a[0][0]');
  });
});
