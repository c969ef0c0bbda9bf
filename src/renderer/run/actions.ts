/** Starting, queueing, cancelling and exporting the editor's runs. */
import { unzipSync } from 'fflate';
import type { EngineClient } from '../../protocol/client';
import type { WireRunEvent } from '../../protocol/messages';
import { resultPngText, withPngText } from '../../protocol/pngText';
import type { HostFiles } from '../host/context';
import { base64ToBytes, bytesToBase64, textToBase64 } from '../host/base64';
import { EngineError } from '../host/transport';
import { useConnection } from '../state/connection';
import { useDocument } from '../state/document';
import { operatorNode, operatorTask } from '../editor/actions';
import { runProblem } from '../state/problems';
import { KEEP_RUNS, activeRun, shownRun, useRun } from '../state/run';
import type { QueuedRun, RunRecord } from '../state/runs';
import { applyEvent, moveUp, newRun, removeQueued, settingsSummary, trimRuns, updateRun } from '../state/runs';
import { useValidation } from '../state/validation';
import { frameToPngDataUrl } from '../ui/FrameCanvas';

/** Cancel functions of started runs, by run key (functions stay out of the store). */
const cancels = new Map<number, () => Promise<void>>();
/** Runs cancelled while the engine had not yet answered `run.start`: cancelled once it does. */
const cancelWhenStarted = new Set<number>();

/** The current document as a run to start or queue. */
function snapshot(): QueuedRun {
  const { doc } = useDocument.getState();
  const key = useRun.getState().nextKey;
  useRun.setState({ nextKey: key + 1 });
  return { key, name: doc.name, settings: settingsSummary(doc, operatorTask(operatorNode(doc)?.kind ?? '')), doc: structuredClone(doc) };
}

/** Runs the document as it is now, or queues it behind the active run. */
export function startRun(engine: EngineClient): void {
  if (useConnection.getState().refused || !useDocument.getState().doc.nodes.length) return; // Run is off (the panel says why)
  const q = snapshot();
  if (activeRun(useRun.getState())) useRun.setState((s) => ({ queue: [...s.queue, q] }));
  else void launch(engine, q);
}

/** Starts the first queued run, if any. */
function startNext(engine: EngineClient): void {
  const [next, ...rest] = useRun.getState().queue;
  if (!next || activeRun(useRun.getState())) return;
  useRun.setState({ queue: rest });
  void launch(engine, next);
}

async function launch(engine: EngineClient, q: QueuedRun): Promise<void> {
  useRun.setState((s) => ({ runs: trimRuns([...s.runs, newRun(q)], KEEP_RUNS), selected: undefined, problem: undefined }));
  const update = (f: (r: RunRecord) => RunRecord): void => useRun.setState((s) => ({ runs: updateRun(s.runs, q.key, f) }));
  const onEvent = (e: WireRunEvent): void => {
    update((r) => applyEvent(r, e));
    if (e.type === 'error') useRun.setState({ problem: runProblem(q.doc, e) });
    if (e.type === 'done' || e.type === 'cancelled' || e.type === 'error') {
      cancels.delete(q.key);
      // After an error the queue waits: its runs would likely fail alike and hide this error.
      if (e.type !== 'error') startNext(engine);
    }
  };
  try {
    const { runId, cancel } = await engine.run({ doc: q.doc, throttleMs: 80 }, onEvent);
    update((r) => ({ ...r, runId }));
    if (activeRun(useRun.getState())?.key !== q.key) return;
    cancels.set(q.key, cancel);
    if (cancelWhenStarted.delete(q.key)) await cancel();
  } catch (e) {
    const err = e as Error;
    // Validation issues name their nodes; they go where validation shows. Anything else is the run's problem.
    if (err instanceof EngineError && err.issues.length) useValidation.getState().set({ errors: err.issues, warnings: [] });
    else useRun.setState({ problem: runProblem(q.doc, { message: err.message }) });
    update((r) => ({ ...r, status: 'error', error: { message: err.message } }));
  }
}

/** Asks the engine to stop the active run (it ends with a `cancelled` event and the next queued run starts). */
export async function cancelRun(): Promise<void> {
  const r = activeRun(useRun.getState());
  if (!r) return;
  const cancel = cancels.get(r.key);
  if (cancel) await cancel();
  else cancelWhenStarted.add(r.key);
}

/**
 * Saves the result picture as PNG carrying the graph the run started with, its report and its
 * metrics (text chunks), so dropping it on the canvas opens that graph again.
 */
export async function exportPng(files: HostFiles): Promise<void> {
  const { result, report, doc } = shownRun(useRun.getState()) ?? {};
  if (!result || !doc) return;
  const png = withPngText(base64ToBytes(frameToPngDataUrl(result).split(',')[1]!), resultPngText(doc, report));
  await files.save(`${report?.graph ?? 'result'}-seed${report?.seed ?? 0}.png`, bytesToBase64(png), [{ name: 'PNG image', extensions: ['png'] }]);
}

/** Saves the run bundle: graph, measurement, result (.npy and .png) and report, zipped. */
export async function exportBundle(engine: EngineClient, files: HostFiles): Promise<string | undefined> {
  const { runId } = shownRun(useRun.getState()) ?? {};
  if (!runId) return undefined;
  const { fileName, base64 } = await engine.call('run.export', { runId });
  return files.save(fileName, base64, [{ name: 'Run bundle', extensions: ['zip'] }]);
}

/** Saves the result tensor (all samples, float32) as .npy, taken from the run's bundle. */
export async function exportNpy(engine: EngineClient, files: HostFiles): Promise<void> {
  const { runId, report } = shownRun(useRun.getState()) ?? {};
  if (!runId) return;
  const { base64 } = await engine.call('run.export', { runId });
  const npy = unzipSync(base64ToBytes(base64))['result.npy'];
  if (!npy) throw new Error('this run has no result tensor (the graph has no Output node)');
  await files.save(`${report?.graph ?? 'result'}-seed${report?.seed ?? 0}.npy`, bytesToBase64(npy), [{ name: 'NumPy array', extensions: ['npy'] }]);
}

/** Saves report.json. */
export async function exportReport(files: HostFiles): Promise<void> {
  const { report } = shownRun(useRun.getState()) ?? {};
  if (report) await files.save('report.json', textToBase64(`${JSON.stringify(report, null, 2)}\n`), [{ name: 'JSON', extensions: ['json'] }]);
}

/** Drops a queued run. */
export const unqueue = (key: number): void => useRun.setState((s) => ({ queue: removeQueued(s.queue, key) }));

/** Moves a queued run one place earlier. */
export const queueUp = (key: number): void => useRun.setState((s) => ({ queue: moveUp(s.queue, key) }));
