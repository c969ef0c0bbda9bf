/** Run bookkeeping and the queue: records, their events, and starting runs through a fake engine. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../protocol/client';
import type { WireRunEvent } from '../../protocol/messages';
import { cancelRun, queueUp, startRun, unqueue } from '../run/actions';
import { emptyGraph, useDocument } from './document';
import { activeRun, shownRun, useRun } from './run';
import type { QueuedRun } from './runs';
import { applyEvent, moveUp, newRun, removeQueued, settingsSummary, trimRuns } from './runs';

const doc = emptyGraph('g');
const queued = (key: number): QueuedRun => ({ key, name: `g${key}`, settings: '', doc });
const metrics = (iteration: number): WireRunEvent => ({ type: 'metrics', iteration, residual: [1 / (iteration + 1)], normalisedResidual: [1] });
const report = { graph: 'g', seed: 0, nfe: 3 } as unknown as Extract<WireRunEvent, { type: 'done' }>['report'];

describe('run records', () => {
  it('follow their own events from compiling to done', () => {
    let r = newRun(queued(1));
    expect(r.status).toBe('starting');
    r = applyEvent(r, { type: 'inputs', task: 'inpaint-box', sigma: 0.05, measurement: { width: 1, height: 1, rgba: 'AAAAAA==' } });
    r = applyEvent(applyEvent(r, metrics(0)), metrics(5));
    r = applyEvent(r, { type: 'progress', iteration: 6, of: 6, nfe: 6, elapsedMs: 10 });
    r = applyEvent(r, { type: 'done', report });
    expect(r).toMatchObject({ status: 'done', progress: { iteration: 6 }, report: { nfe: 3 } });
    expect(r.curve.map((p) => p.iteration)).toEqual([0, 5]);
  });

  it('keep the node and iteration of an error', () => {
    const r = applyEvent(newRun(queued(1)), { type: 'error', message: 'boom', nodeId: 'schedule', iteration: 4 });
    expect(r).toMatchObject({ status: 'error', error: { message: 'boom', nodeId: 'schedule', iteration: 4 } });
  });

  it('are trimmed oldest first, never the active one', () => {
    const done = (k: number) => ({ ...newRun(queued(k)), status: 'done' as const });
    const runs = [newRun(queued(1)), done(2), done(3), done(4)];
    expect(trimRuns(runs, 2).map((r) => r.key)).toEqual([1, 4]);
    expect(trimRuns(runs, 9)).toHaveLength(4);
  });
});

describe('queue', () => {
  const q = [queued(1), queued(2), queued(3)];
  it('moves an entry up and removes one', () => {
    expect(moveUp(q, 3).map((x) => x.key)).toEqual([1, 3, 2]);
    expect(moveUp(q, 1)).toBe(q);
    expect(moveUp(q, 9)).toBe(q);
    expect(removeQueued(q, 2).map((x) => x.key)).toEqual([1, 3]);
  });

  it('summarises the settings', () => {
    const d = { ...doc, nodes: [{ id: 's', kind: 'Schedule', params: { iterations: 1000 } }], run: { seed: 7, iterations: 20, backend: 'onnx' as const } };
    expect(settingsSummary(d, 'inpaint-box')).toBe('inpaint-box · 20 it · seed 7 · ONNX');
    expect(settingsSummary({ ...d, run: { seed: 0 } })).toBe('1000 it · seed 0 · JS');
  });
});

/** An engine whose runs end only when the test sends their events. */
function fakeEngine() {
  const runs: { params: { doc: Record<string, unknown> }; send: (e: WireRunEvent) => void; cancelled: boolean }[] = [];
  const engine = {
    async run(params: { doc: Record<string, unknown> }, onEvent: (e: WireRunEvent) => void) {
      const r = { params, send: onEvent, cancelled: false };
      runs.push(r);
      return { runId: String(runs.length), cancel: async () => void ((r.cancelled = true), onEvent({ type: 'cancelled', iteration: 1, report })) };
    },
  } as unknown as EngineClient;
  return { engine, runs };
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('starting runs', () => {
  beforeEach(() => {
    useRun.setState({ runs: [], queue: [], selected: undefined, problem: undefined, nextKey: 1 });
    // One node: an empty graph has nothing to run, and Run is off for it.
    useDocument.getState().open({ ...emptyGraph('first'), nodes: [{ id: 'out', kind: 'Output', params: {} }], run: { seed: 1 } }, 'test');
  });

  it('queues a run asked for while one is active and starts it when that one ends', async () => {
    const { engine, runs } = fakeEngine();
    startRun(engine);
    useDocument.getState().edit((d) => void (d.name = 'second'));
    startRun(engine);
    await settle();
    expect(runs).toHaveLength(1);
    expect(useRun.getState().queue.map((q) => q.name)).toEqual(['second']);
    runs[0]!.send(metrics(0));
    runs[0]!.send({ type: 'done', report });
    await settle();
    expect(runs).toHaveLength(2);
    expect(runs[1]!.params.doc.name).toBe('second');
    // A late event of the first run lands on its own record, never on the second's curve.
    runs[0]!.send(metrics(9));
    runs[1]!.send(metrics(0));
    const [a, b] = useRun.getState().runs;
    expect(a!.curve.map((p) => p.iteration)).toEqual([0, 9]);
    expect(b!.curve.map((p) => p.iteration)).toEqual([0]);
    expect(shownRun(useRun.getState())?.key).toBe(2);
  });

  it('interrupting starts the next queued run; remove and move up reorder what is next', async () => {
    const { engine, runs } = fakeEngine();
    for (const name of ['a', 'b', 'c']) {
      useDocument.getState().edit((d) => void (d.name = name));
      startRun(engine);
    }
    await settle();
    queueUp(3);
    expect(useRun.getState().queue.map((q) => q.name)).toEqual(['c', 'b']);
    unqueue(2);
    await cancelRun();
    await settle();
    expect(runs[0]!.cancelled).toBe(true);
    expect(runs.map((r) => r.params.doc.name)).toEqual(['a', 'c']);
    expect(useRun.getState().queue).toEqual([]);
    expect(activeRun(useRun.getState())?.key).toBe(3);
  });

  it('an interrupt while the engine has not yet answered takes effect when it does', async () => {
    const { engine, runs } = fakeEngine();
    startRun(engine);
    startRun(engine);
    const asked = cancelRun(); // run.start has not answered yet: nothing to cancel with
    expect(runs[0]!.cancelled).toBe(false);
    await asked;
    await settle();
    expect(runs[0]!.cancelled).toBe(true);
    expect(useRun.getState().runs.map((r) => r.status)).toEqual(['cancelled', 'starting']);
  });

  it('holds the queue after an error and keeps the error as a problem on its node', async () => {
    const { engine, runs } = fakeEngine();
    startRun(engine);
    startRun(engine);
    await settle();
    runs[0]!.send({ type: 'error', message: 'iterations: too many', nodeId: 'schedule' });
    await settle();
    expect(runs).toHaveLength(1);
    expect(useRun.getState().queue).toHaveLength(1);
    expect(useRun.getState().problem).toMatchObject({ nodeId: 'schedule', message: 'iterations: too many' });
    startRun(engine); // the user runs again: the error goes, the queue follows this run
    await settle();
    expect(useRun.getState().problem).toBeUndefined();
    runs[1]!.send({ type: 'done', report });
    await settle();
    expect(runs).toHaveLength(3);
  });
});
