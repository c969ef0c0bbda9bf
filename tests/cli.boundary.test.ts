/**
 * The CLI at its boundaries: a bundle with NaN in y and a network wider than its card are refused
 * (before, both ran and exited 0), and Ctrl-C of `lagrange run` / `lagrange eval` exits 130 and
 * says the output is partial. The interrupts are real: a child process gets SIGINT once it has
 * started, with every wait bounded.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { readNpy, writeNpy } from '../src/engine/io/npy';
import { loadImage } from '../src/engine/io/prepare';
import { simulate, writeMeasurement } from '../src/engine/simulate';
import { outputShapeModel, H, W } from './helpers/outputShapeModel';

const ROOT = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-cli-boundary-'));

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(['node', 'lagrange', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('refused inputs', () => {
  it('`run` on a bundle with NaN in y exits 1 naming the node, y.npy and the index', async () => {
    const dir = join(tmp, 'nan-bundle');
    writeMeasurement(dir, simulate({ task: 'inpaint-box', image: await loadImage('sample:astronaut', 16), seed: 0 }));
    const y = readNpy(join(dir, 'y.npy'));
    y.data[5] = Number.NaN;
    writeNpy(join(dir, 'y.npy'), y);
    const r = await run('run', 'ddiff', '--measurement', dir, '--prior', 'gaussian', '--iterations', '3', '--out', join(tmp, 'nan-out'));
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^lagrange: node "\w+" \(MeasurementInput\): /);
    expect(r.err[0]).toContain(`${join(dir, 'y.npy')}: value NaN at index 5 [0, 0, 0, 5] of 1×3×16×16 is not finite; a .npy input must hold finite numbers`);
    expect(existsSync(join(tmp, 'nan-out', 'report.json'))).toBe(false);
  });

  it('`models check` fails a network whose output has more channels than its card says', async () => {
    const r = await run('models', 'check', outputShapeModel({ doubled: true, dims: [2, H, W] }), '--provider', 'cpu');
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/model check failed: cpu: .*output 'eps' is N×2×32×32, but .*promises N×1×32×32/);
  });
});

/** Output of a child process as it arrives, and its exit. */
function start(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/lagrange.mjs'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '',
    err = '';
  child.stdout!.on('data', (b: Buffer) => void (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => void (err += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

/** Resolves when `ready()` holds; rejects after `ms` (the child is killed then). */
async function until(ready: () => boolean, ms: number, child: ChildProcess, what: string): Promise<void> {
  const t0 = Date.now();
  while (!ready()) {
    if (Date.now() - t0 > ms || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not happen within ${ms} ms (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The exit code, or a rejection (and a killed child) after `ms`. */
async function exitWithin(p: ReturnType<typeof start>, ms: number): Promise<number | null> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  try {
    return await p.exit;
  } finally {
    clearTimeout(timer);
  }
}

describe('Ctrl-C', () => {
  it('`run` interrupted after it started exits 130 and says the output is partial', async () => {
    const out = join(tmp, 'run-int');
    // 999 iterations at 128 px take several seconds: SIGINT comes at the first progress event.
    const p = start([
      'run',
      'ddiff',
      '--task',
      'inpaint-box',
      '--image',
      'sample:astronaut',
      '--size',
      '128',
      '--prior',
      'gaussian',
      '--iterations',
      '999',
      '--json',
      '--out',
      out,
    ]);
    await until(() => p.out().includes('"type":"progress"'), 45_000, p.child, 'a progress event');
    p.child.kill('SIGINT');
    expect(await exitWithin(p, 30_000)).toBe(130);
    expect(p.out()).toContain('"type":"cancelled"');
    expect(p.err()).toMatch(new RegExp(`lagrange: interrupted: ${out} holds a partial run \\(\\d+ of 999 iterations\\)`));
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toMatchObject({ status: 'cancelled' });
  }, 90_000);

  it('`eval` interrupted after its first row exits 130, keeps that row and says the tables are partial', async () => {
    const out = join(tmp, 'eval-int');
    const p = start([
      'eval',
      '--solvers',
      'measurement,ddiff',
      '--tasks',
      'inpaint-box',
      '--images',
      'sample:astronaut',
      '--size',
      '128',
      '--prior',
      'gaussian',
      '--iterations',
      '999',
      '--workers',
      '1',
      '--out',
      out,
    ]);
    await until(() => p.err().includes('[1/2]'), 45_000, p.child, 'the first row');
    p.child.kill('SIGINT');
    expect(await exitWithin(p, 30_000)).toBe(130);
    expect(p.err()).toContain(`lagrange: interrupted: the output in ${out} is partial (table.md, table.csv and report.html cover 1 of 2 rows); run the same command to resume`);
    expect(p.out()).toMatch(/\| inpaint-box \| measurement \| 1 \|/);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'table.md'))).toBe(true);
  }, 90_000);
});
