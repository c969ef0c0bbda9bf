/**
 * Cancel reaches a run that is still compiling: the worker cannot see the cancel while it builds
 * a large operator (synchronous work), so it is terminated after a grace period and the run ends
 * 'cancelled' with nothing computed. Before, `run.cancel` and Ctrl-C waited for the compile to
 * finish (minutes, for 2³¹ iterations). The compiles here are real: Gaussian deblurring at 2048
 * px takes 12–40 s to build on these machines.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../src/engine/graph/format';
import type { RunEvent } from '../src/engine/runtime/events';
import { CANCEL_GRACE_MS, runInWorker } from '../src/engine/runtime/worker/client';

const ROOT = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-cancel-'));

/** The analytic-prior DDiff fixture with a 2048 px image and a wide blur: ~12 s to compile. */
function slowGraph(): ReturnType<typeof parseGraph> {
  const d = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/graphs/ddiff-gaussian.lagrange.json'), 'utf8')) as {
    nodes: { id: string; kind: string; params: Record<string, unknown> }[];
  };
  d.nodes.find((n) => n.id === 'image')!.params.size = 2048;
  Object.assign(
    d.nodes.find((n) => n.id === 'A')!,
    { kind: 'GaussianBlur', params: { kernelSize: 61, sigma: 10 } },
  );
  return parseGraph(d);
}

describe('cancel while compiling', () => {
  it('runInWorker ends cancelled within the grace period, with a report of nothing computed', async () => {
    const ac = new AbortController();
    const events: RunEvent[] = [];
    let inputs = false;
    const t0 = performance.now();
    const running = runInWorker(slowGraph(), { iterations: 5 }, { signal: ac.signal, onEvent: (e) => events.push(e), onInputs: () => (inputs = true) });
    setTimeout(() => ac.abort(), 300);
    const r = await running;
    const ms = performance.now() - t0;
    expect(inputs, 'the compile had finished before the cancel: the test measured nothing').toBe(false);
    expect(r.status).toBe('cancelled');
    expect(ms).toBeLessThan(300 + CANCEL_GRACE_MS + 1500);
    expect(r.report).toMatchObject({ iterations: 5, nfe: 0, graph: 'ddiff-gaussian' });
    expect(r.report.warnings[0]).toMatch(/cancelled before the first iteration/);
    expect(events.map((e) => e.type)).toEqual(['cancelled']);
  }, 60_000);

  it('Ctrl-C of `lagrange run` while it compiles exits 130 within about a second, report.json saying cancelled', async () => {
    const out = join(tmp, 'run-compiling');
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/lagrange.mjs'),
        'run',
        'ddiff',
        '--task',
        'deblur-gauss',
        '--image',
        'sample:astronaut',
        '--size',
        '2048',
        '--prior',
        'gaussian',
        '--iterations',
        '999',
        '--json',
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (b: Buffer) => void (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => void (stderr += b.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await new Promise((r) => setTimeout(r, 4000)); // CLI start-up (~1–2 s), then well into the compile
      expect(stdout, 'the run had started iterating: the test measured nothing').not.toContain('"type":"progress"');
      const t0 = Date.now();
      child.kill('SIGINT');
      expect(await exit).toBe(130);
      expect(Date.now() - t0).toBeLessThan(CANCEL_GRACE_MS + 2500);
    } finally {
      clearTimeout(kill);
    }
    expect(stdout).toContain('"type":"cancelled"');
    expect(stderr).toMatch(/lagrange: interrupted: .* holds a partial run \(0 of 999 iterations\)/);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toMatchObject({ status: 'cancelled', nfe: 0, iterations: 999 });
  }, 90_000);
});
