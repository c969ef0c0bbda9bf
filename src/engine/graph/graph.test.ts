import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GraphDocument } from './format';
import { GraphFormatError, migrateDocument, parseGraph } from './format';
import { validateGraph } from './validate';

const FIXTURE = new URL('../../../tests/fixtures/graphs/ddiff-gaussian.lagrange.json', import.meta.url);
const raw = (): Record<string, unknown> => JSON.parse(readFileSync(FIXTURE, 'utf8'));
const ddiff = (): GraphDocument => parseGraph(raw(), 'ddiff-gaussian.lagrange.json');

/** Messages of the errors of a modified DDiff graph. */
function errorsOf(edit: (g: GraphDocument) => void): string[] {
  const g = ddiff();
  edit(g);
  return validateGraph(g).errors.map((e) => `${e.path}: ${e.message}`);
}

describe('graph format', () => {
  it('reads the DDiff graph with defaults filled in', () => {
    const g = ddiff();
    expect(g.nodes).toHaveLength(12);
    expect(g.run.seed).toBe(0);
    expect(validateGraph(g)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('rejects malformed documents with the JSON path and the value', () => {
    const bad = raw();
    (bad.nodes as Record<string, unknown>[])[3]!.id = '';
    (bad.edges as Record<string, unknown>[])[1]!.target = 7;
    expect(() => parseGraph(bad, 'g.json')).toThrow(GraphFormatError);
    try {
      parseGraph(bad, 'g.json');
    } catch (e) {
      const issues = (e as GraphFormatError).issues;
      expect(issues).toContainEqual(expect.stringMatching(/^nodes\[3\]\.id: .*, got ""$/));
      expect(issues).toContainEqual(expect.stringMatching(/^edges\[1\]\.target: .*, got 7$/));
      expect((e as Error).message).toMatch(/^g\.json: /);
    }
  });

  it('keeps run.backend optional: absent stays absent, js/onnx are read, anything else is refused', () => {
    expect('backend' in ddiff().run).toBe(false); // no default: existing documents and their hashes stay as they are
    const onnx = raw();
    onnx.run = { ...(onnx.run as object), backend: 'onnx' };
    expect(parseGraph(onnx).run.backend).toBe('onnx');
    onnx.run = { ...(onnx.run as object), backend: 'gpu' };
    expect(() => parseGraph(onnx)).toThrow(/run\.backend: .*"js".*"onnx".*, got "gpu"/);
  });

  it('checks the format tag and refuses newer versions', () => {
    expect(() => parseGraph({ format: 'comfy' })).toThrow('format: expected "lagrange-graph", got "comfy"');
    expect(() => parseGraph({ ...raw(), version: 9 })).toThrow(/version 9, made by a newer Lagrange Studio; this one reads up to version 1/);
  });

  it('migrates older documents step by step through the hook', () => {
    const migrations = {
      1: (d: Record<string, unknown>) => ({ ...d, nodes: (d.nodes as { type: string }[]).map((n) => ({ kind: n.type })) }),
      2: (d: Record<string, unknown>) => ({ ...d, edges: d.links }),
    };
    const old = { format: 'lagrange-graph', version: 1, nodes: [{ type: 'State' }], links: [] };
    expect(migrateDocument(old, 1, 3, migrations)).toMatchObject({ version: 3, nodes: [{ kind: 'State' }], edges: [] });
    expect(() => migrateDocument(old, 1, 4, migrations)).toThrow('version: no migration from version 3');
  });
});

describe('graph validation', () => {
  it('names the path, node and expected value for bad parameters', () => {
    const errs = errorsOf((g) => (g.nodes[4]!.params = { iterations: -2 }));
    expect(errs).toEqual([expect.stringMatching(/^nodes\[4\]\.params\.iterations: Too small: .*>=1, got -2 \(node "sched" \(Schedule\)\)$/)]);
  });

  it('refuses unknown kinds, listing the known ones', () => {
    const errs = errorsOf((g) => (g.nodes[7]!.kind = 'Denoiser'));
    expect(errs[0]).toMatch(
      /^nodes\[7\]\.kind: node "z" \(Denoiser\): unknown node kind 'Denoiser'; no loaded plugin declares it \(plugins loaded: none\); known kinds: ImageInput, /,
    );
  });

  it('refuses edges between incompatible port types and to missing ports or nodes', () => {
    expect(errorsOf((g) => (g.edges[6] = { source: 'prior', sourcePort: 'prior', target: 'x', targetPort: 'z' }))).toContainEqual(
      'edges[6]: node "prior" (ScoreModel) output \'prior\' is prior but node "x" (XUpdate) input \'z\' expects image',
    );
    expect(errorsOf((g) => (g.edges[6]!.targetPort = 'zz'))).toContainEqual(
      expect.stringMatching(/node "x" \(XUpdate\) has no input 'zz'; inputs: z \(image\), u \(image\), measurement/),
    );
    expect(errorsOf((g) => (g.edges[6]!.source = 'ghost'))).toContainEqual(expect.stringMatching(/no node "ghost"/));
  });

  it('reports unconnected required inputs and doubled inputs', () => {
    expect(errorsOf((g) => g.edges.splice(8, 1))).toEqual(['nodes[8]: node "x" (XUpdate): input \'measurement\' (measurement) is not connected']);
    expect(errorsOf((g) => g.edges.push({ source: 'z', sourcePort: 'eps', target: 'x', targetPort: 'z' }))).toContainEqual(
      expect.stringMatching(/node "x" \(XUpdate\) input 'z' has more than one incoming edge/),
    );
  });

  it('allows cycles through State.next only', () => {
    // x feeds back into Denoise directly: a cycle z → x → z without a State
    const errs = errorsOf((g) => {
      g.edges[3] = { source: 'noise', sourcePort: 'xt', target: 'z', targetPort: 'xt' };
    });
    expect(errs).toEqual(["edges: cycle x → noise → z → x does not pass through a State node's 'next' input; loop variables must be State nodes"]);
  });

  it('accepts DPS guidance on a network prior: its denoiser VJP is exact by reverse mode (vjp "exact", the default)', () => {
    const g = ddiff();
    g.nodes.push({ id: 'dps', kind: 'DPSGuidance', params: {} });
    (g.nodes[3]!.params as Record<string, unknown>).source = 'onnx';
    g.edges.push(
      { source: 'xt', sourcePort: 'current', target: 'dps', targetPort: 'xt' },
      { source: 'z', sourcePort: 'x0', target: 'dps', targetPort: 'x0' },
      { source: 'noise', sourcePort: 'xt', target: 'dps', targetPort: 'next' },
      { source: 'sim', sourcePort: 'measurement', target: 'dps', targetPort: 'measurement' },
      { source: 'prior', sourcePort: 'prior', target: 'dps', targetPort: 'prior' },
      { source: 'sched', sourcePort: 'schedule', target: 'dps', targetPort: 'schedule' },
    );
    const r = validateGraph(g);
    expect(r.errors.map((e) => e.message).filter((m) => m.includes('denoiseVjp'))).toEqual([]);
  });

  it('falls back from an exact prox to the linearized step on an operator without proxL2, and says so', () => {
    const g = ddiff();
    g.nodes[1]!.kind = 'PhaseRetrieval';
    (g.nodes[8]!.params as Record<string, unknown>).mode = 'prox';
    const r = validateGraph(g);
    expect(r.ok).toBe(true);
    expect(r.warnings[0]!.message).toMatch(
      /node "x" \(XUpdate\) needs proxL2 on 'measurement', but node "A" \(PhaseRetrieval\) \(task phase-retrieval\) has no proxL2; using the linearized step/,
    );
  });
});
