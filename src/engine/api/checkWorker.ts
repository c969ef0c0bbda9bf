/**
 * The check worker: parses and validates graph documents for a host (checkPool.ts), one at a time,
 * so a graph at the size limits never blocks the host's event loop. It loads the host's plugins
 * (the list each request names) before checking, since graphs may use plugin kinds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPlugins, PLUGINS_ENV } from '../plugin/load';
import { countNativeCalls } from '../runtime/worker/native';
import { runCheck } from './graphChecks';
import type { WireIssue } from '../../protocol/messages';
import type { CheckRequest, CheckReply } from './checkProtocol';

const port = parentPort!;
// Plugins' registration may open ONNX sessions: the host terminates this thread only at zero calls.
const busy = (workerData as { nativeCalls?: Int32Array } | undefined)?.nativeCalls;
if (busy) countNativeCalls(busy);

port.on('message', (m: CheckRequest) => {
  void (async (): Promise<CheckReply> => {
    try {
      await loadPlugins({ ...process.env, [PLUGINS_ENV]: m.plugins });
      port.postMessage({ id: m.id, started: true } satisfies CheckReply); // the host's time limit starts now
      return { id: m.id, ok: true, result: runCheck(m.job) };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const issues = (err as { issues?: unknown }).issues;
      return { id: m.id, ok: false, name: err.name, message: err.message, ...(Array.isArray(issues) ? { issues: issues as WireIssue[] } : {}) };
    }
  })().then((reply) => port.postMessage(reply));
});
