/**
 * A cancel while a worker creates its ONNX sessions must not end the host process: terminating a
 * worker thread during onnxruntime's native work aborts the whole process ("terminate called
 * after throwing an instance of 'Napi::Error'"), which is how a loaded browser-mode server could
 * die on a cancelled run. The host now terminates a worker only when no ONNX call is in flight
 * (runtime/worker/native.ts). The runs happen in a child process, so a crash fails this test
 * instead of the test runner.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

it('cancelling runs while the network loads leaves the host process alive', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tests/helpers/cancelWhileLoading.ts', '16'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.stderr).not.toMatch(/Napi::Error|terminate called/);
  expect(r.status, r.stderr).toBe(0);
  const { statuses } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { statuses: string[] };
  expect(statuses).toHaveLength(16);
  expect(statuses.every((s) => s === 'cancelled' || s === 'done')).toBe(true);
  expect(statuses[0]).toBe('cancelled'); // aborted before it started: cancelled however fast the machine is
}, 180_000);
