/** Starting and cancelling the Tune panel's search, and taking its best into the editor. */
import type { EngineClient } from '../../protocol/client';
import type { WireGraph } from '../../protocol/messages';
import { editLayer, writeParam } from '../../protocol/params';
import type { TuneRequest, WirePoint } from '../../protocol/tune';
import type { HostFiles } from '../host/context';
import { textToBase64 } from '../host/base64';
import { selectionOf } from '../editor/actions';
import { useDocument } from '../state/document';
import { applyTuneEvent, isLive, useTune } from './state';
import type { TuneRun } from './state';

/** What {@link startTune} needs beyond the panel's set-up. */
export interface TuneTarget {
  doc: WireGraph;
  task: string;
  sigma?: number;
  lpips?: string;
}

/** The request for the panel's set-up, or the reason there is none. */
export function tuneRequest(t: TuneTarget): TuneRequest | string {
  const { setup } = useTune.getState();
  const ranges = setup.chosen.map((k) => setup.ranges[k]).filter((r) => r !== undefined);
  if (!ranges.length) return 'choose at least one parameter to tune';
  const val = Object.keys(setup.splits).filter((r) => setup.splits[r] === 'val');
  const test = Object.keys(setup.splits).filter((r) => setup.splits[r] === 'test');
  if (!val.length || !test.length) return 'give at least one validation and one test image';
  if (!(setup.budget >= 1)) return 'the budget must be at least 1';
  const tunesK = ranges.some((r) => r.param === 'iterations' && t.doc.nodes.find((n) => n.id === r.node)?.kind === 'Schedule');
  return {
    doc: t.doc,
    task: t.task,
    ranges,
    val,
    test,
    budget: setup.budgetKind === 'trials' ? { trials: Math.round(setup.budget) } : { nfe: Math.round(setup.budget) },
    objective: setup.objective,
    seed: setup.seed,
    ...(setup.iterations && !tunesK ? { iterations: setup.iterations } : {}),
    ...(t.sigma !== undefined ? { sigma: t.sigma } : {}),
    ...(t.lpips ? { lpips: t.lpips } : {}),
  };
}

/** Starts a search of `t.doc` as it is now; failures to start end the run with their message. */
export async function startTune(engine: EngineClient, t: TuneTarget): Promise<void> {
  if (isLive(useTune.getState().run)) return;
  const req = tuneRequest(t);
  const run: TuneRun = {
    status: 'starting',
    task: t.task,
    graph: t.doc.name,
    objective: useTune.getState().setup.objective,
    ranges: typeof req === 'string' ? [] : req.ranges,
    rungs: [],
    trials: [],
    scores: [],
  };
  if (typeof req === 'string') return void useTune.setState({ run: { ...run, status: 'error', error: req } });
  if (!engine.tune) return void useTune.setState({ run: { ...run, status: 'error', error: 'this engine connection cannot run parameter searches' } });
  useTune.setState({ run, cancel: undefined });
  try {
    const { cancel } = await engine.tune(req, (e) => useTune.setState((s) => ({ run: s.run && applyTuneEvent(s.run, e) })));
    useTune.setState({ cancel });
  } catch (e) {
    useTune.setState((s) => ({ run: s.run && { ...s.run, status: 'error', error: (e as Error).message } }));
  }
}

/** Asks the engine to stop the search after the row in flight. */
export async function cancelTune(): Promise<void> {
  await useTune.getState().cancel?.();
}

/**
 * Writes `point` into the graph as ordinary parameter edits, one undo step: each value goes where
 * an edit of it in the inspector would (the task's override when the graph has one, else the node).
 */
export function applyPoint(point: WirePoint): void {
  useDocument.getState().edit((d) => {
    const sel = selectionOf(d as WireGraph);
    for (const [node, params] of Object.entries(point)) for (const [param, value] of Object.entries(params)) writeParam(d, editLayer(d, sel, node, param), node, param, value);
  });
}

/** Saves the tuned preset (the best values as the task's override) as a graph file. */
export async function saveTuned(files: HostFiles, tuned: WireGraph): Promise<string | undefined> {
  const name = `${tuned.name.replace(/[^\w.-]+/g, '-') || 'tuned'}.lagrange.json`;
  return files.save(name, textToBase64(`${JSON.stringify(tuned, null, 2)}\n`), [{ name: 'Solver graph', extensions: ['json'] }]);
}
