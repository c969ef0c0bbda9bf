/** Starting, cancelling and exporting the editor's run. */
import { unzipSync } from 'fflate';
import type { EngineClient } from '../../protocol/client';
import type { HostFiles } from '../host/context';
import { base64ToBytes, bytesToBase64, textToBase64 } from '../host/base64';
import { EngineError } from '../host/transport';
import { useDocument } from '../state/document';
import { useRun } from '../state/run';
import { useValidation } from '../state/validation';
import { frameToPngDataUrl } from '../ui/FrameCanvas';

/** Runs the document as it is now; events flow into the run store. */
export async function startRun(engine: EngineClient): Promise<void> {
  const { doc } = useDocument.getState();
  const run = useRun.getState();
  run.reset('starting');
  try {
    const { runId, cancel } = await engine.run({ doc: doc as unknown as Record<string, unknown>, throttleMs: 80 }, (e) => useRun.getState().apply(e));
    useRun.setState({ runId, cancel });
  } catch (e) {
    const err = e as Error;
    if (err instanceof EngineError && err.issues.length) useValidation.getState().set({ errors: err.issues, warnings: [] });
    useRun.setState({ status: 'error', error: { message: err.message } });
  }
}

/** Asks the engine to stop the current run (it ends with a `cancelled` event). */
export async function cancelRun(): Promise<void> {
  await useRun.getState().cancel?.();
}

/** Saves the result picture as PNG. */
export async function exportPng(files: HostFiles): Promise<void> {
  const { result, report } = useRun.getState();
  if (!result) return;
  const b64 = frameToPngDataUrl(result).split(',')[1]!;
  await files.save(`${report?.graph ?? 'result'}-seed${report?.seed ?? 0}.png`, b64, [{ name: 'PNG image', extensions: ['png'] }]);
}

/** Saves the run bundle: graph, measurement, result (.npy and .png) and report, zipped. */
export async function exportBundle(engine: EngineClient, files: HostFiles): Promise<string | undefined> {
  const { runId } = useRun.getState();
  if (!runId) return undefined;
  const { fileName, base64 } = await engine.call('run.export', { runId });
  return files.save(fileName, base64, [{ name: 'Run bundle', extensions: ['zip'] }]);
}

/** Saves the result tensor (all samples, float32) as .npy, taken from the run's bundle. */
export async function exportNpy(engine: EngineClient, files: HostFiles): Promise<void> {
  const { runId, report } = useRun.getState();
  if (!runId) return;
  const { base64 } = await engine.call('run.export', { runId });
  const npy = unzipSync(base64ToBytes(base64))['result.npy'];
  if (!npy) throw new Error('this run has no result tensor (the graph has no Output node)');
  await files.save(`${report?.graph ?? 'result'}-seed${report?.seed ?? 0}.npy`, bytesToBase64(npy), [{ name: 'NumPy array', extensions: ['npy'] }]);
}

/** Saves report.json. */
export async function exportReport(files: HostFiles): Promise<void> {
  const { report } = useRun.getState();
  if (report) await files.save('report.json', textToBase64(`${JSON.stringify(report, null, 2)}\n`), [{ name: 'JSON', extensions: ['json'] }]);
}
