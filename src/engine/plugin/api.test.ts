/**
 * The plugin API object: what it registers and records, the node kind it derives, what it
 * refuses (clashes naming both owners, bad declarations, late calls) and the rollback.
 */
import { describe, expect, it } from 'vitest';
import { nodeKind, nodeKindOrigin } from '../../nodes/index';
import { operatorOrigin, operatorSpec, registerOperator } from '../operators/registry';
import type { ForwardModel } from '../operators/types';
import { executors } from '../runtime/executors';
import type { PluginOperatorSpec } from './api';
import { createPluginApi } from './api';

/** A scaled identity A = c·I: linear, self-adjoint. */
function scaled(id: string, kind: string, c = 2): PluginOperatorSpec {
  const { api } = createPluginApi('unused');
  const z = api.z;
  return {
    id,
    title: `${c}·I`,
    summary: 'A = c·I',
    doc: 'A(x) = c x',
    linear: true,
    seeded: false,
    capabilities: ['adjoint'],
    params: z.object({ c: z.number().positive() }),
    defaults: () => ({ c }),
    create: (p, ctx): ForwardModel => {
      const mul = (t: { shape: readonly number[]; data: Float32Array }) => {
        if (t.shape.length !== 4 || ctx.shape.some((d, k) => t.shape[k + 1] !== d)) throw new RangeError(`${id}: expected N×${ctx.shape.join('×')}, got ${t.shape.join('×')}`);
        return api.tensor(
          t.shape,
          t.data.map((v) => v * (p.c as number)),
        );
      };
      return { id, inShape: ctx.shape, outShape: ctx.shape, linear: true, params: p, artifacts: {}, apply: mul, adjoint: mul, view: (y) => y };
    },
    node: { kind },
  };
}

describe('createPluginApi', () => {
  it('exposes the engine version, zod, tensors and FFTs', () => {
    const { api } = createPluginApi('p');
    expect(api.apiVersion).toBe(1);
    expect(api.engineVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(api.tensor([1, 1, 2, 2]).data).toEqual(new Float32Array(4));
    expect(typeof api.fft.fftPlan).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('registers an operator with its node kind, records it, and rolls both back', () => {
    const s = createPluginApi('scaler');
    s.api.registerOperator(scaled('scale2', 'Scale2'));
    expect(s.registered.operators).toEqual([{ id: 'scale2', nodeKind: 'Scale2' }]);
    expect(operatorOrigin('scale2')).toBe('scaler');
    expect(nodeKind('Scale2')).toMatchObject({ kind: 'Scale2', title: '2·I', category: 'operator', task: 'scale2' });
    expect(nodeKind('Scale2')!.params.parse({})).toEqual({});
    expect(() => nodeKind('Scale2')!.params.parse({ c: -1 })).toThrow();
    s.rollback();
    expect(operatorOrigin('scale2')).toBeUndefined();
    expect(nodeKind('Scale2')).toBeUndefined();
    expect(() => operatorSpec('scale2')).toThrow(/unknown task 'scale2'/);
  });

  it('refuses an operator id or node kind that exists, naming both owners, and adds nothing', () => {
    const a = createPluginApi('first');
    a.api.registerOperator(scaled('dup', 'Dup'));
    const b = createPluginApi('second');
    expect(() => b.api.registerOperator(scaled('dup', 'Other'))).toThrow("operator 'dup' of plugin 'second' clashes with the operator of plugin 'first' 'dup'");
    expect(() => b.api.registerOperator(scaled('other', 'Dup'))).toThrow("node kind 'Dup' of plugin 'second' clashes with the node kind of plugin 'first' 'Dup'");
    expect(() => b.api.registerOperator(scaled('other', 'GaussianBlur'))).toThrow("node kind 'GaussianBlur' of plugin 'second' clashes with the built-in node kind 'GaussianBlur'");
    expect(operatorOrigin('other')).toBeUndefined(); // the id was not kept when its node kind clashed
    expect(b.registered.operators).toEqual([]);
    a.rollback();
    expect(() => registerOperator(scaled('sr4', 'X'), 'third')).toThrow("operator 'sr4' of plugin 'third' clashes with the built-in operator 'sr4'");
  });

  it('refuses parameters that are not a zod object, and specs without create/defaults/node', () => {
    const s = createPluginApi('p');
    const spec = scaled('np', 'Np');
    expect(() => s.api.registerOperator({ ...spec, params: s.api.z.record(s.api.z.string(), s.api.z.number()) } as never)).toThrow(/params must be a zod object/);
    expect(() => s.api.registerOperator({ ...spec, create: undefined } as never)).toThrow("plugin 'p': operator np: spec.create must be a function");
    expect(() => s.api.registerOperator({ ...spec, node: undefined } as never)).toThrow("plugin 'p': operator np: spec.node.kind (its node kind's name) is missing");
    expect(() => s.api.registerOperator(scaled('My Task', 'MyTask'))).toThrow(
      "plugin 'p': operator id 'My Task' must be lower-case letters, digits, '_' or '-' (like sr4, inpaint-box)",
    );
    expect(() => s.api.registerOperator(scaled('np', '9Kind'))).toThrow("plugin 'p': operator np: node kind '9Kind' must be letters, digits, _ and -, starting with a letter");
    expect(operatorOrigin('np')).toBeUndefined();
  });

  it('registers a per-iteration node kind with its executor; refuses bad declarations and clashes', async () => {
    const s = createPluginApi('steps');
    const z = s.api.z;
    const decl = {
      kind: 'Twice',
      title: 'Twice',
      category: 'update' as const,
      doc: 'y = 2x',
      inputs: [{ name: 'x', type: 'image' as const, doc: 'x' }],
      outputs: [{ name: 'y', type: 'image' as const, doc: '2x' }],
      params: z.object({}),
    };
    s.api.registerNodeKind(decl, async () => ({}));
    expect(nodeKindOrigin('Twice')).toBe('steps');
    expect(typeof executors.Twice).toBe('function');
    expect(() => s.api.registerNodeKind({ ...decl, kind: 'Denoise' }, async () => ({}))).toThrow(
      "node kind 'Denoise' of plugin 'steps' clashes with the built-in node kind 'Denoise'",
    );
    expect(() => s.api.registerNodeKind({ ...decl, kind: 'Op', category: 'operator' }, async () => ({}))).toThrow(/^plugin 'steps': node kind Op: category: /);
    expect(() => s.api.registerNodeKind({ ...decl, kind: 'Bad', params: {} as never }, async () => ({}))).toThrow(
      "plugin 'steps': node kind Bad: params: a zod object (api.z.object({...}), the engine's zod)",
    );
    expect(() => s.api.registerNodeKind({ ...decl, kind: 'Reg', role: 'state', loopInput: 'x' }, async () => ({}))).toThrow(
      "plugin 'steps': node kind Reg: role: a plugin node kind computes per iteration: role 'step' (or none)",
    );
    expect(s.registered.nodeKinds).toEqual(['Twice']);
    s.rollback();
    expect(nodeKind('Twice')).toBeUndefined();
    expect(executors.Twice).toBeUndefined();
  });

  it('refuses registrations after register(api) returned', () => {
    const s = createPluginApi('late');
    s.close();
    expect(() => s.api.registerOperator(scaled('late', 'Late'))).toThrow("plugin 'late': registerOperator after register(api) returned");
    expect(operatorOrigin('late')).toBeUndefined();
  });

  it('runs the conformance suite: a scaled identity passes, one with a wrong adjoint fails the adjoint check', () => {
    const { api } = createPluginApi('p');
    const spec = scaled('s3', 'S3', 3);
    const op = spec.create({ c: 3 }, { shape: [1, 8, 8], seed: 0, rng: undefined as never });
    const ok = api.checkOperator(op);
    expect(ok.ok).toBe(true);
    expect(ok.checks.map((c) => c.name)).toContain('adjoint');
    const wrong = api.checkOperator({ ...op, adjoint: (y) => y });
    expect(wrong.checks.find((c) => c.name === 'adjoint')).toMatchObject({ ok: false });
  });
});
