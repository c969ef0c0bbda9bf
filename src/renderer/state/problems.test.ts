/** Run errors as problems: kept while the graph they ran is unchanged, and the studio's own graph checks. */
import { describe, expect, it } from 'vitest';
import type { WireGraph } from '../../protocol/messages';
import { emptyGraph } from './document';
import { asIssue, graphProblems, runProblem, standing } from './problems';

const graph: WireGraph = {
  ...emptyGraph('g'),
  nodes: [
    { id: 'schedule', kind: 'Schedule', params: { iterations: 1000 }, position: { x: 0, y: 0 } },
    { id: 'out', kind: 'Output', params: {} },
  ],
};

describe('run problems', () => {
  const p = runProblem(graph, { message: 'iterations: 2000 uniform steps need tStart ≥ 1999, got 999', nodeId: 'schedule', iteration: 0 });

  it('stand while nothing the run depends on changed (moving or renaming keeps them)', () => {
    expect(standing(p, structuredClone(graph))).toBe(p);
    const moved = { ...graph, name: 'renamed', nodes: graph.nodes.map((n) => ({ ...n, position: { x: 50, y: 9 }, label: 'L' })) };
    expect(standing(p, moved)).toBe(p);
  });

  it('clear when a parameter, the wiring or the run settings change', () => {
    const param = { ...graph, nodes: graph.nodes.map((n) => (n.id === 'schedule' ? { ...n, params: { iterations: 20 } } : n)) };
    expect(standing(p, param)).toBeUndefined();
    expect(standing(p, { ...graph, run: { seed: 0, iterations: 20 } })).toBeUndefined();
    expect(standing(p, { ...graph, edges: [{ source: 'schedule', sourcePort: 'schedule', target: 'out', targetPort: 'image' }] })).toBeUndefined();
    expect(standing(undefined, graph)).toBeUndefined();
  });

  it('read as a Problems entry on the node, with the iteration', () => {
    expect(asIssue(p)).toEqual({ path: 'run', nodeId: 'schedule', message: 'run failed (at iteration 0): iterations: 2000 uniform steps need tStart ≥ 1999, got 999' });
    expect(asIssue(runProblem(graph, { message: 'node "z" produced NaN at iteration 7', nodeId: 'z', iteration: 7 })).message).toBe(
      'run failed: node "z" produced NaN at iteration 7',
    );
    expect(asIssue(runProblem(graph, { message: 'engine worker exited' }))).toEqual({ path: 'run', message: 'run failed: engine worker exited' });
  });
});

describe('graph problems', () => {
  it('an empty graph has nothing to run; a graph without Output is warned about', () => {
    expect(graphProblems(emptyGraph('e')).errors[0]?.message).toMatch(/^nothing to run/);
    const noOutput = graphProblems({ ...graph, nodes: graph.nodes.slice(0, 1) });
    expect(noOutput).toEqual({ errors: [], warnings: [expect.objectContaining({ message: expect.stringMatching(/^no Output node/) })] });
    expect(graphProblems(graph)).toEqual({ errors: [], warnings: [] });
  });
});
