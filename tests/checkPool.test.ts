/**
 * The graph check worker (src/engine/api/checkPool.ts): the same answers as checking in place,
 * the host's plugins, a time limit and crash recovery that replace the worker, a bounded queue,
 * and the in-place budget that keeps small documents off the worker.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CheckPool } from '../src/engine/api/checkPool';
import { RequestError } from '../src/engine/api/errors';
import type { CheckJob } from '../src/engine/api/graphChecks';
import { isSmallJob, runCheck } from '../src/engine/api/graphChecks';
import { PLUGINS_ENV } from '../src/engine/plugin/load';
import { fanOut, preset, previews, withNode } from './helpers/bigGraphs';

const ROOT = new URL('..', import.meta.url).pathname;
const TRAP = resolve(ROOT, 'tests/fixtures/check-trap');
const CT = resolve(ROOT, 'plugins/ct');
const pools: CheckPool[] = [];
const envBefore = process.env[PLUGINS_ENV];

/** A pool that sends every check to its worker. */
const workerPool = (opts: ConstructorParameters<typeof CheckPool>[0] = {}): CheckPool => {
  const p = new CheckPool({ inlineBudget: 0, ...opts });
  pools.push(p);
  return p;
};

/** What a promise settled with, for comparing answers and errors alike. */
const outcome = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => ({ ok: v }),
    (e: Error) => ({ name: e.name, message: e.message, issues: (e as RequestError).issues }),
  );

afterEach(() => {
  if (envBefore === undefined) delete process.env[PLUGINS_ENV];
  else process.env[PLUGINS_ENV] = envBefore;
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('graph check worker', () => {
  it('answers as the check in place does: valid, invalid, malformed, parse and run jobs', async () => {
    const pool = workerPool();
    const broken = { ...preset(), nodes: 'none' };
    const jobs: CheckJob[] = [
      { type: 'validate', doc: previews(1980) },
      { type: 'validate', doc: fanOut() },
      { type: 'validate', doc: broken },
      { type: 'parse', text: JSON.stringify(previews(200)), source: 'big.lagrange.json' },
      { type: 'parse', text: '{"format": ', source: 'cut.json' },
      { type: 'run', doc: preset('diffpir'), measurement: { kind: 'simulate', task: 'deblur-gauss', sigma: 0.1 } },
      { type: 'run', doc: preset(), measurement: { kind: 'simulate', task: 'no-such-task' } },
    ];
    for (const job of jobs) {
      const inPlace = await outcome((async () => runCheck(job))());
      expect(await outcome(pool.check(job))).toEqual(inPlace);
    }
    const fan = await pool.check({ type: 'validate', doc: fanOut() });
    expect(fan.ok).toBe(false);
    expect(fan.errors.length).toBeGreaterThan(7900);
    await expect(pool.check({ type: 'validate', doc: broken })).rejects.toBeInstanceOf(RequestError);
    expect(pool.stats).toMatchObject({ inline: 0, worker: jobs.length + 2, spawned: 1, timedOut: 0, crashed: 0 });
  }, 60_000);

  it('loads the plugins the host names when it checks (a plugin kind is unknown until then)', async () => {
    const pool = workerPool();
    const ct = JSON.parse(readFileSync(resolve(CT, 'presets/ct-ddiff.lagrange.json'), 'utf8')) as unknown;
    delete process.env[PLUGINS_ENV];
    const without = await pool.check({ type: 'validate', doc: ct });
    expect(without.ok).toBe(false);
    expect(without.errors.map((e) => e.message).join('\n')).toMatch(/ParallelBeamCT.*plugin 'ct'/);
    process.env[PLUGINS_ENV] = CT;
    expect(await pool.check({ type: 'validate', doc: ct })).toMatchObject({ ok: true, errors: [] });
  }, 60_000);

  it('stops a check past its time limit with an error naming it, and the next check gets a fresh worker', async () => {
    process.env[PLUGINS_ENV] = TRAP;
    const pool = workerPool({ timeoutMs: 1500 });
    expect((await pool.check({ type: 'validate', doc: preset() })).ok).toBe(true); // worker up, plugin loaded
    const t0 = performance.now();
    await expect(pool.check({ type: 'validate', doc: withNode('CheckTrap', { mode: 'spin' }, 'check-trap') })).rejects.toThrow(
      /^graph\.validate: checking graph "ddiff" \(19 nodes\) took longer than 1\.5 s and was stopped; simplify the graph/,
    );
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(await pool.check({ type: 'validate', doc: previews(1980) })).toMatchObject({ ok: true });
    expect(pool.stats).toMatchObject({ timedOut: 1, spawned: 2 });
  }, 60_000);

  it('answers a check whose worker dies with an error, and the next check works', async () => {
    process.env[PLUGINS_ENV] = TRAP;
    const pool = workerPool();
    await expect(pool.check({ type: 'run', doc: withNode('CheckTrap', { mode: 'exit' }, 'check-trap') })).rejects.toThrow(
      /^run\.start: the graph checker stopped while checking graph "ddiff" \(19 nodes\) \(it exited with code 7\); the next check starts a fresh one/,
    );
    expect(await pool.check({ type: 'validate', doc: preset() })).toMatchObject({ ok: true });
    expect(pool.stats).toMatchObject({ crashed: 1, spawned: 2 });
  }, 60_000);

  it('refuses checks beyond its queue at once; the queued ones are answered after a stopped check', async () => {
    process.env[PLUGINS_ENV] = TRAP;
    const pool = workerPool({ timeoutMs: 1500, maxQueued: 2 });
    const spin = outcome(pool.check({ type: 'validate', doc: withNode('CheckTrap', { mode: 'spin' }, 'check-trap') }));
    const queued = [pool.check({ type: 'validate', doc: preset() }), pool.check({ type: 'validate', doc: fanOut() })];
    const t0 = performance.now();
    await expect(pool.check({ type: 'validate', doc: preset() })).rejects.toThrow(/^graph\.validate: 2 graph checks are already waiting \(at most 2\)/);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(await spin).toMatchObject({ name: 'RequestError', message: expect.stringMatching(/took longer than 1\.5 s/) as unknown });
    const [small, fan] = await Promise.all(queued);
    expect(small!.ok).toBe(true);
    expect(fan!.ok).toBe(false);
    expect(pool.stats).toMatchObject({ refused: 1, timedOut: 1 });
  }, 60_000);

  it('checks small documents in place and sends large ones to the worker, however the values are spread', async () => {
    const pool = new CheckPool();
    pools.push(pool);
    expect(isSmallJob({ type: 'validate', doc: preset() }, 2000)).toBe(true);
    expect(isSmallJob({ type: 'validate', doc: previews(1980) }, 2000)).toBe(false);
    expect(isSmallJob({ type: 'validate', doc: { nodes: [{ params: { s: 'x'.repeat(1_000_000) } }] } }, 2000)).toBe(false);
    const wide = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, i]));
    expect(isSmallJob({ type: 'validate', doc: { nodes: [{ params: wide }] } }, 2000)).toBe(false);
    expect(isSmallJob({ type: 'validate', doc: { nodes: Array.from({ length: 1_000_000 }, () => ({})) } }, 2000)).toBe(false);
    expect(isSmallJob({ type: 'parse', text: 'x'.repeat(32_000) }, 2000)).toBe(true);
    expect(isSmallJob({ type: 'parse', text: 'x'.repeat(32_001) }, 2000)).toBe(false);
    await pool.check({ type: 'validate', doc: preset() });
    await pool.check({ type: 'validate', doc: previews(1980) });
    expect(pool.stats).toMatchObject({ inline: 1, worker: 1 });
  }, 60_000);
});
