/**
 * Run as a child process by tests/cancel.native.test.ts: starts runs on the bundled network and
 * cancels each at a different moment — while the worker creates its ONNX sessions, runs them or
 * releases them — with no grace period, so the host wants to terminate the worker in the middle
 * of native work. Prints one JSON line; a
 * process killed by the ONNX add-on prints nothing and exits by a signal.
 */
import { readFileSync } from 'node:fs';
import { parseGraph } from '../../src/engine/graph/format';
import { withMeasurement } from '../../src/engine/graph/edit';
import { runInWorker } from '../../src/engine/runtime/worker/client';

const rounds = Number(process.argv[2] ?? 8);
const doc = withMeasurement(parseGraph(JSON.parse(readFileSync(new URL('../../resources/presets/ddiff.lagrange.json', import.meta.url), 'utf8'))), {
  kind: 'simulate',
  task: 'inpaint-box',
});
const statuses: string[] = [];
let sawInputs = 0;
for (let i = 0; i < rounds; i++) {
  const ac = new AbortController();
  // Spread over the network's loading and the first iterations, so terminations fall on session
  // creation, on a run in flight and on the sessions' release after a cooperative cancel.
  setTimeout(() => ac.abort(), 450 + 60 * i);
  const r = await runInWorker(doc, { iterations: 200 }, { signal: ac.signal, graceMs: 0, onInputs: () => void sawInputs++ });
  statuses.push(r.status);
}
// Let every deferred termination happen before saying the process survived.
await new Promise((r) => setTimeout(r, 3000));
process.stdout.write(`${JSON.stringify({ statuses, sawInputs })}\n`);
