/** The Compare view's pure logic: run planning, frame selection, curve alignment, the reducer, the table, the runner. */
import { describe, expect, it, vi } from 'vitest';
import type { EngineClient } from '../../protocol/client';
import type { Frame, WireGraph, WireReport, WireRunEvent } from '../../protocol/messages';
import { alignCurves, defaultIterations, everyFor, formatSeconds, frameAt, planRun, pointAtOrBefore, previewNodeId, sameSettings } from './logic';
import type { Settings } from './logic';
import { createRunner } from './runner';
import { freshRun, initialState, reduce } from './state';
import type { Action, CompareState, Tagged } from './state';
import { bestRows, markdownTable, rowOf } from './table';
import type { Row } from './table';

function graph(iterations = 1000, extra: WireGraph['nodes'] = []): WireGraph {
  return {
    format: 'lagrange-graph',
    version: 1,
    name: 'g',
    description: '',
    nodes: [
      { id: 'image', kind: 'ImageInput', params: { source: 'model:fmnist-32/heldout/03.png' } },
      { id: 'schedule', kind: 'Schedule', params: { iterations, spacing: 'uniform' } },
      { id: 'preview', kind: 'Preview', params: { label: 'x̂', every: 50 } },
      { id: 'metrics', kind: 'Metrics', params: { every: 50 } },
      ...extra,
    ],
    edges: [],
    run: { seed: 0 },
    models: {},
    overrides: {},
  };
}
const settings: Settings = { task: 'deblur-gauss', image: 'sample:cat', sigma: 0.05, seed: 7 };
const frame = (tag: string): Frame => ({ width: 1, height: 1, rgba: tag });
const report = (over: Partial<WireReport> = {}): WireReport => ({
  graph: 'g',
  hash: 'h',
  seed: 7,
  samples: 1,
  iterations: 100,
  nfe: 100,
  vjpCalls: 0,
  wallMs: 2000,
  scoreModelMs: 1500,
  engineMs: 500,
  secondsPerNfe: 0.02,
  provider: 'cpu',
  versions: {},
  warnings: [],
  ...over,
});

describe('planning a fair run', () => {
  it('spreads ~24 previews and ~100 metric points over any iteration count', () => {
    expect(everyFor(1000, 24)).toBe(42);
    expect(everyFor(100, 24)).toBe(4);
    expect(everyFor(10, 24)).toBe(1);
    expect(everyFor(1000, 100)).toBe(10);
    expect(everyFor(50, 100)).toBe(1);
  });

  it('reads the default iterations from run.iterations, then the Schedule', () => {
    expect(defaultIterations(graph(200))).toBe(200);
    expect(defaultIterations({ ...graph(200), run: { seed: 0, iterations: 50 } })).toBe(50);
    expect(defaultIterations({ ...graph(), nodes: [] })).toBe(1000);
  });

  it("applies the graph's task override of the Schedule (DiffPIR inpaints in 20 steps)", () => {
    const doc: WireGraph = { ...graph(100), overrides: { 'task:inpaint-box': { schedule: { iterations: 20 }, preview: { every: 1, label: 'y' } } } };
    expect(defaultIterations(doc, 'inpaint-box')).toBe(20);
    expect(defaultIterations(doc, 'deblur-gauss')).toBe(100);
    const plan = planRun(doc, { ...settings, task: 'inpaint-box' });
    expect(plan.K).toBe(20);
    const sent = plan.request.doc as unknown as WireGraph;
    expect(sent.nodes.find((n) => n.id === 'preview')!.params.every).toBe(1);
    expect(sent.overrides['task:inpaint-box']).toEqual({ schedule: { iterations: 20 }, preview: { label: 'y' } });
  });

  it("runs every entry on the chosen backend, or on each graph's own", () => {
    const onnxGraph: WireGraph = { ...graph(100), run: { seed: 0, backend: 'onnx' } };
    const backendOf = (doc: WireGraph, backend?: 'js' | 'onnx'): string | undefined =>
      (planRun(doc, { ...settings, ...(backend ? { backend } : {}) }).request.doc as unknown as WireGraph).run.backend;
    expect(backendOf(graph(100), 'onnx')).toBe('onnx');
    expect(backendOf(onnxGraph, 'js')).toBeUndefined();
    expect(backendOf(onnxGraph)).toBe('onnx');
    expect(backendOf(graph(100))).toBeUndefined();
    expect(onnxGraph.run.backend).toBe('onnx'); // the input is not mutated
    expect(sameSettings(settings, { ...settings, backend: 'onnx' })).toBe(false);
  });

  it('sets every Preview and Metrics period, the shared measurement, seed and no throttle', () => {
    const doc = graph(100, [{ id: 'z', kind: 'Preview', params: { every: 5 } }]);
    const plan = planRun(doc, settings);
    expect(plan.K).toBe(100);
    expect(plan.previewId).toBe('preview');
    const nodes = (plan.request.doc as unknown as WireGraph).nodes;
    expect(nodes.filter((n) => n.kind === 'Preview').map((n) => n.params.every)).toEqual([4, 4]);
    expect(nodes.find((n) => n.kind === 'Metrics')!.params.every).toBe(1);
    expect(nodes.find((n) => n.id === 'preview')!.params.label).toBe('x̂');
    expect(plan.request).toMatchObject({ measurement: { kind: 'simulate', task: 'deblur-gauss', image: 'sample:cat', sigma: 0.05 }, seed: 7, throttleMs: 0 });
    expect(plan.request.iterations).toBeUndefined();
    expect(doc.nodes.find((n) => n.id === 'preview')!.params.every).toBe(50); // the input is not mutated
  });

  it('uses the iteration override for the request and the periods', () => {
    const plan = planRun(graph(1000), { ...settings, iterations: 240 });
    expect(plan.K).toBe(240);
    expect(plan.request.iterations).toBe(240);
    expect((plan.request.doc as unknown as WireGraph).nodes.find((n) => n.id === 'preview')!.params.every).toBe(10);
  });

  it('follows the first Preview node when none has id "preview"', () => {
    expect(
      previewNodeId({
        ...graph(),
        nodes: [
          { id: 'a', kind: 'Output', params: {} },
          { id: 'p2', kind: 'Preview', params: {} },
        ],
      }),
    ).toBe('p2');
    expect(previewNodeId({ ...graph(), nodes: [] })).toBeUndefined();
  });

  it('compares settings field by field', () => {
    expect(sameSettings(settings, { ...settings })).toBe(true);
    expect(sameSettings(settings, { ...settings, iterations: 10 })).toBe(false);
  });
});

describe('frame at a fraction of the run', () => {
  // Previews every 42 iterations of K = 1000, plus the last iteration.
  const frames = [0, 42, 84, 504, 546, 999].map((iteration) => ({ iteration }));
  it('picks the last frame at or before the fraction of its own run', () => {
    expect(frameAt(frames, 1000, 0.5)?.iteration).toBe(84); // 505/1000 > 0.5
    expect(frameAt(frames, 1000, 0.505)?.iteration).toBe(504);
    expect(frameAt(frames, 1000, 1)?.iteration).toBe(999);
    expect(frameAt(frames, 1000, 0.043)?.iteration).toBe(42);
  });
  it('falls back to the first frame before any, and to nothing without frames', () => {
    expect(frameAt(frames, 1000, 0)?.iteration).toBe(0);
    expect(frameAt([], 1000, 0.5)).toBeUndefined();
  });
  it('maps the same fraction onto runs of different lengths', () => {
    const short = [0, 4, 8, 48, 52, 99].map((iteration) => ({ iteration }));
    expect(frameAt(short, 100, 0.5)?.iteration).toBe(48);
    expect(frameAt(frames, 1000, 0.5)?.iteration).toBe(84);
  });
  it('finds metric points at or before an iteration', () => {
    expect(pointAtOrBefore(frames, 600)?.iteration).toBe(546);
    expect(pointAtOrBefore(frames, 0)?.iteration).toBe(0);
    expect(pointAtOrBefore(frames.slice(1), 10)).toBeUndefined();
  });
});

describe('curve alignment', () => {
  it('puts every curve on the sorted union of x, null where a curve has no point', () => {
    const { x, values } = alignCurves([
      {
        points: [
          { x: 50, y: 1 },
          { x: 100, y: 2 },
        ],
      },
      {
        points: [
          { x: 25, y: 3 },
          { x: 100, y: undefined },
        ],
      },
    ]);
    expect(x).toEqual([25, 50, 100]);
    expect(values).toEqual([
      [null, 1, 2],
      [3, null, null],
    ]);
  });
  it('drops non-positive values for log axes', () => {
    expect(
      alignCurves(
        [
          {
            points: [
              { x: 1, y: 0 },
              { x: 2, y: 0.1 },
              { x: 3, y: Number.NaN },
            ],
          },
        ],
        true,
      ).values,
    ).toEqual([[null, 0.1, null]]);
  });
  it('formats durations', () => {
    expect(formatSeconds(0.4213)).toBe('0.42 s');
    expect(formatSeconds(12.34)).toBe('12.3 s');
    expect(formatSeconds(185)).toBe('3 min 05 s');
  });
});

/** The state after `events` of entry `name` in a fresh comparison of `names`. */
function after(names: string[], events: [string, WireRunEvent][], extra: Action[] = []): CompareState {
  let s = reduce(initialState, { type: 'start', token: 3, names, settings });
  for (const a of extra) s = reduce(s, a);
  return reduce(s, { type: 'events', batch: events.map(([name, event]): Tagged => ({ token: 3, name, event })) });
}

describe('run state', () => {
  it('tracks progress, frames of the result Preview node, metrics, result and report', () => {
    const s = after(
      ['a'],
      [
        ['a', { type: 'inputs', task: 'deblur-gauss', sigma: 0.05, truth: frame('x'), measurement: frame('y') }],
        ['a', { type: 'progress', iteration: 1, of: 100, nfe: 1, elapsedMs: 10 }],
        ['a', { type: 'preview', nodeId: 'preview', label: 'x̂', iteration: 0, ...frame('f0') }],
        ['a', { type: 'preview', nodeId: 'other', label: 'z', iteration: 0, ...frame('z0') }],
        ['a', { type: 'metrics', iteration: 0, residual: [0.5], normalisedResidual: [3], psnr: [12], ssim: [0.2] }],
        ['a', { type: 'progress', iteration: 5, of: 100, nfe: 7, elapsedMs: 50 }],
        ['a', { type: 'preview', nodeId: 'preview', label: 'x̂', iteration: 4, ...frame('f4') }],
        ['a', { type: 'result', frame: frame('r') }],
        ['a', { type: 'done', report: report() }],
      ],
      [{ type: 'prepared', token: 3, name: 'a', K: 100, previewId: 'preview' }],
    );
    const r = s.runs.a!;
    expect(r.status).toBe('done');
    expect(r.frames.map((f) => [f.iteration, f.nfe, f.frame.rgba])).toEqual([
      [0, 1, 'f0'],
      [4, 7, 'f4'],
    ]);
    expect(r.metrics).toEqual([{ iteration: 0, nfe: 1, psnr: 12, ssim: 0.2, residual: 0.5 }]);
    expect(r.result?.rgba).toBe('r');
    expect(r.elapsedMs).toBe(2000);
    expect(s.inputs?.truth?.rgba).toBe('x');
  });

  it('keeps the first inputs as shared and flags a run whose measurement differs', () => {
    const s = after(
      ['a', 'b', 'c'],
      [
        ['a', { type: 'inputs', task: 't', sigma: 0.05, measurement: frame('y') }],
        ['b', { type: 'inputs', task: 't', sigma: 0.05, measurement: frame('y') }],
        ['c', { type: 'inputs', task: 't', sigma: 0.05, measurement: frame('other') }],
      ],
    );
    expect(s.inputs?.measurement.rgba).toBe('y');
    expect([s.runs.a!.sameInputs, s.runs.b!.sameInputs, s.runs.c!.sameInputs]).toEqual([true, true, false]);
  });

  it('ignores events of an older comparison and of unknown entries', () => {
    const s = after(['a'], []);
    const t = reduce(s, {
      type: 'events',
      batch: [
        { token: 2, name: 'a', event: { type: 'progress', iteration: 9, of: 10, nfe: 9, elapsedMs: 1 } },
        { token: 3, name: 'zz', event: { type: 'result', frame: frame('r') } },
      ],
    });
    expect(t).toBe(s);
  });

  it('records errors with their node, failures before the run, and cancellation', () => {
    const s = after(
      ['a', 'b', 'c'],
      [
        ['a', { type: 'error', nodeId: 'x', iteration: 12, message: 'node "x" (XUpdate) produced NaN' }],
        ['c', { type: 'cancelled', iteration: 40, report: report({ iterations: 100, nfe: 40 }) }],
      ],
      [{ type: 'failed', token: 3, name: 'b', message: 'graph is not valid' }],
    );
    expect(s.runs.a).toMatchObject({ status: 'error', error: { nodeId: 'x', iteration: 12 } });
    expect(s.runs.b).toMatchObject({ status: 'error', error: { message: 'graph is not valid' } });
    expect(s.runs.c).toMatchObject({ status: 'cancelled', nfe: 40 });
  });

  it('marks active runs as cancelling and keeps that status through progress', () => {
    let s = after(['a', 'b', 'c'], [['a', { type: 'done', report: report() }]]);
    s = reduce(s, { type: 'prepared', token: 3, name: 'b', K: 10 });
    expect(s.runs.b!.status).toBe('starting');
    s = reduce(s, { type: 'cancelling', token: 3 });
    // c was still waiting for its turn: it never starts.
    expect([s.runs.a!.status, s.runs.b!.status, s.runs.c!.status]).toEqual(['done', 'cancelling', 'cancelled']);
    s = reduce(s, { type: 'events', batch: [{ token: 3, name: 'b', event: { type: 'progress', iteration: 2, of: 10, nfe: 2, elapsedMs: 3 } }] });
    expect(s.runs.b!.status).toBe('cancelling');
  });
});

describe('metrics table', () => {
  const row = (name: string, values: Row['values'], final = true): Row => ({ name, label: name, status: final ? 'done' : 'running', final, values });

  it('takes final numbers from the report, live ones from the latest metric point', () => {
    const done = { ...freshRun(), status: 'done' as const, report: report({ metrics: { residual: [0.01], normalisedResidual: [1], psnr: [25], ssim: [0.9] } }) };
    expect(rowOf('a', 'A', done)).toMatchObject({ final: true, provider: 'cpu', values: { psnr: 25, ssim: 0.9, residual: 0.01, nfe: 100, wallS: 2, sPerNfe: 0.02 } });
    const onnx = { ...done, report: report({ provider: 'onnx:cpu', backend: 'onnx' }) };
    expect(rowOf('a', 'A', onnx).provider).toBe('onnx:cpu · ONNX backend');
    const live = { ...freshRun(), status: 'running' as const, nfe: 10, elapsedMs: 500, metrics: [{ iteration: 9, nfe: 10, psnr: 14, residual: 0.3 }] };
    expect(rowOf('b', 'B', live)).toMatchObject({ final: false, values: { psnr: 14, residual: 0.3, nfe: 10, wallS: 0.5, sPerNfe: 0.05 } });
    expect(rowOf('c', 'C', undefined)).toMatchObject({ status: 'idle', values: {} });
  });

  it('highlights the best value per column: higher PSNR/SSIM, lower residual/NFE/time; ties share', () => {
    const rows = [
      row('a', { psnr: 25, residual: 0.02, nfe: 1000, wallS: 9 }),
      row('b', { psnr: 27, residual: 0.02, nfe: 100, wallS: 3 }),
      row('c', { psnr: 30, nfe: 50 }, false),
      row('d', { residual: 0.05 }),
    ];
    expect([...bestRows(rows, 'psnr')]).toEqual([1]); // the running row does not count
    expect([...bestRows(rows, 'residual')]).toEqual([0, 1]);
    expect([...bestRows(rows, 'nfe')]).toEqual([1]);
    expect([...bestRows(rows, 'ssim')]).toEqual([]);
    expect([...bestRows([row('a', { psnr: 1 })], 'psnr')]).toEqual([]);
    expect([...bestRows([row('a', { nfe: 200 }), row('b', { nfe: 200 })], 'nfe')]).toEqual([]); // all equal: nobody is best
  });

  it('renders Markdown with the caption, best values in bold and unknowns as dashes', () => {
    const md = markdownTable(
      [{ ...row('ddiff', { psnr: 25.123, ssim: 0.9, residual: 0.01, nfe: 1000, wallS: 12, sPerNfe: 0.012 }), provider: 'cpu' }, row('dps|x', { psnr: 22 })],
      'Gaussian blur · seed 0',
    );
    const lines = md.trim().split('\n');
    expect(lines[0]).toBe('Gaussian blur · seed 0');
    expect(lines[2]).toBe('| entry | PSNR (dB) | SSIM | residual | NFE | wall (s) | s/NFE | provider |');
    expect(lines[3]).toBe('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    expect(lines[4]).toBe('| ddiff | **25.12** | 0.900 | 0.0100 | 1000 | 12.00 | 0.0120 | cpu |');
    expect(lines[5]).toBe('| dps\\|x | 22.00 | — | — | — | — | — | — |');
  });
});

describe('runner', () => {
  it('runs every entry with its planned request and batches their events', async () => {
    const requests: unknown[] = [];
    const engine: EngineClient = {
      call: (async (_m: string, p: { name: string }) => ({ ...graph(p.name === 'short' ? 48 : 960), name: p.name })) as EngineClient['call'],
      async run(params, onEvent) {
        requests.push(params);
        const K = params.iterations ?? ((params.doc as unknown as WireGraph).nodes.find((n) => n.kind === 'Schedule')!.params.iterations as number);
        setTimeout(() => {
          onEvent({ type: 'progress', iteration: K, of: K, nfe: K, elapsedMs: 1 });
          onEvent({ type: 'preview', nodeId: 'preview', label: '', iteration: K - 1, ...frame(`${K}`) });
          onEvent({ type: 'done', report: report({ iterations: K, nfe: K }) });
        }, 1);
        return { runId: String(requests.length), cancel: async () => undefined };
      },
    };
    let state = initialState;
    let dispatched = 0;
    const runner = createRunner(
      engine,
      (a) => {
        dispatched++;
        state = reduce(state, a);
      },
      5,
    );
    runner.runAll(['long', 'short'], settings);
    await new Promise((r) => setTimeout(r, 60));
    expect(requests.map((r) => (r as { doc: WireGraph }).doc.nodes.find((n) => n.id === 'preview')!.params.every)).toEqual([40, 2]);
    expect(state.runs.long).toMatchObject({ status: 'done', K: 960 });
    expect(state.runs.short!.frames[0]!.frame.rgba).toBe('48');
    expect(dispatched).toBeLessThan(8); // start + 2 prepared + a few batches, not one per event
  });

  it('runs entries one after another by default, each starting when the one before has ended; together when asked', async () => {
    const log: string[] = [];
    const engine: EngineClient = {
      call: (async (_m: string, p: { name: string }) => ({ ...graph(10), name: p.name })) as EngineClient['call'],
      async run(params, onEvent) {
        const name = (params.doc as unknown as WireGraph).name;
        log.push(`start ${name}`);
        setTimeout(() => {
          log.push(`end ${name}`);
          onEvent({ type: 'done', report: report({ iterations: 10, nfe: 10 }) });
        }, 15);
        return { runId: name, cancel: async () => undefined };
      },
    };
    let state = initialState;
    const runner = createRunner(engine, (a) => (state = reduce(state, a)), 1);
    runner.runAll(['a', 'b', 'c'], settings);
    await new Promise((r) => setTimeout(r, 5));
    runner.flush();
    expect([state.runs.a!.status, state.runs.b!.status, state.runs.c!.status]).toEqual(['starting', 'queued', 'queued']);
    await vi.waitFor(() => expect(log).toHaveLength(6), { timeout: 2000 });
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);

    log.length = 0;
    runner.runAll(['a', 'b'], { ...settings, parallel: true });
    await vi.waitFor(() => expect(log).toHaveLength(4), { timeout: 2000 });
    expect(log.slice(0, 2)).toEqual(['start a', 'start b']);
  });

  it('reports a preset that cannot be fetched on its column', async () => {
    const engine = { call: async () => Promise.reject(new Error('no preset')), run: async () => ({ runId: '1', cancel: async () => undefined }) } as unknown as EngineClient;
    let state = initialState;
    createRunner(engine, (a) => (state = reduce(state, a))).runAll(['nope', 'x'], settings);
    await new Promise((r) => setTimeout(r, 10));
    expect(state.runs.nope).toMatchObject({ status: 'error', error: { message: 'no preset' } });
  });
});
