/**
 * The compiler treats nodes by the role their kind declares (state, route, sink, resource,
 * value, step), not by kind names: a kind that declares itself a loop register with another loop
 * input, or a router with another parameter, compiles and runs like the built-in State and
 * Result. And every built-in kind's declaration is consistent with what the engine has for it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addNodeKind, nodeKinds, result, roleOf, state } from '../../nodes/index';
import type { NodeKind } from '../../nodes/index';
import type { GraphDocument } from '../graph/format';
import { parseGraph } from '../graph/format';
import { executors } from '../runtime/executors';
import { runPlan } from '../runtime/run';
import { compile } from './compile';

const FIXTURE = new URL('../../../tests/fixtures/graphs/ddiff-gaussian.lagrange.json', import.meta.url);
/** DDiff on a Gaussian prior, its output routed through a Result node (returns x). */
function ddiff(): GraphDocument {
  const doc = parseGraph(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  return {
    ...doc,
    nodes: [...doc.nodes, { id: 'result', kind: 'Result', params: { returns: 'x' } }],
    edges: [
      ...doc.edges.filter((e) => e.target !== 'out'),
      { source: 'x', sourcePort: 'x', target: 'result', targetPort: 'x' },
      { source: 'xt', sourcePort: 'current', target: 'result', targetPort: 'xt' },
      { source: 'result', sourcePort: 'image', target: 'out', targetPort: 'image' },
    ],
  };
}

// A loop register whose back edge is `feedback`, and a router choosing by `pick`.
const register: NodeKind = { ...state, kind: 'TestRegister', inputs: state.inputs.map((p) => (p.name === 'next' ? { ...p, name: 'feedback' } : p)), loopInput: 'feedback' };
const router: NodeKind = {
  ...result,
  kind: 'TestRouter',
  params: z.object({ pick: z.enum(['x', 'xt']).default('x') }),
  route: (p) => p.pick as string,
};
const removers = [addNodeKind(register, 'roles-test'), addNodeKind(router, 'roles-test')];
afterAll(() => removers.forEach((r) => r()));

/** DDiff with its States as TestRegister (edges into `next` moved to `feedback`) and its Result as TestRouter. */
function renamed(doc: GraphDocument): GraphDocument {
  const states = new Set(doc.nodes.filter((n) => n.kind === 'State').map((n) => n.id));
  return {
    ...doc,
    nodes: doc.nodes.map((n) =>
      n.kind === 'State' ? { ...n, kind: register.kind } : n.kind === 'Result' ? { ...n, kind: router.kind, params: { pick: (n.params.returns as string | undefined) ?? 'x' } } : n,
    ),
    edges: doc.edges.map((e) => (states.has(e.target) && e.targetPort === 'next' ? { ...e, targetPort: 'feedback' } : e)),
  };
}

describe('compiler roles', () => {
  it('runs a graph whose registers and router are kinds of its own exactly like the built-in State and Result', async () => {
    const stock = ddiff();
    expect(stock.nodes.some((n) => n.kind === 'Result')).toBe(true);
    const custom = renamed(stock);
    expect(custom.nodes.some((n) => n.kind === 'State' || n.kind === 'Result')).toBe(false);
    const [a, b] = await Promise.all([compile(stock, { iterations: 12 }), compile(custom, { iterations: 12 })]);
    expect(b.states.map((s) => [s.id, s.next])).toEqual(a.states.map((s) => [s.id, s.next]));
    expect(b.body.map((s) => s.id)).toEqual(a.body.map((s) => s.id));
    const [ra, rb] = [await runPlan(a), await runPlan(b)];
    expect(Array.from(rb.result!.data)).toEqual(Array.from(ra.result!.data));
  });

  it("routes by the router's own parameter", async () => {
    const pickXt = (doc: GraphDocument, kind: string, params: Record<string, unknown>): GraphDocument => ({
      ...doc,
      nodes: doc.nodes.map((n) => (n.kind === kind ? { ...n, params } : n)),
    });
    const stock = await compile(pickXt(ddiff(), 'Result', { returns: 'xt' }), { iterations: 4 });
    const custom = await compile(pickXt(renamed(ddiff()), router.kind, { pick: 'xt' }), { iterations: 4 });
    expect(stock.output).toEqual({ node: 'xt', port: 'current' });
    expect(custom.output).toEqual(stock.output);
  });

  it('gives every built-in kind a role consistent with its declaration', () => {
    for (const k of nodeKinds().filter((n) => !['TestRegister', 'TestRouter'].includes(n.kind))) {
      const role = roleOf(k.kind);
      const inputs = k.inputs.map((p) => p.name);
      if (role === 'step') expect(executors[k.kind], `${k.kind} is a step without an executor`).toBeTypeOf('function');
      if (role === 'state') expect(inputs, k.kind).toContain(k.loopInput);
      if (role === 'route') for (const choice of ['x', 'xt']) expect(inputs).toContain(k.route!(k.params.parse({ returns: choice })));
      if (role === 'sink') expect(k.outputs, k.kind).toEqual([]);
      if (role === 'resource')
        expect(
          k.outputs.map((o) => o.type).some((t) => t === 'prior' || t === 'schedule'),
          k.kind,
        ).toBe(true);
    }
  });
});
