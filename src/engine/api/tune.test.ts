/**
 * tune.start / tune.cancel through the engine API: a tiny search of the DDiff preset (8
 * iterations of the bundled 32 px prior, two sampled trials) in its own thread streams its plan,
 * trials and result, writes the folder `lagrange tune` writes, and resumes from it; a cancel ends
 * a search with tune-cancelled; bad ranges and a second search are refused in the reply.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TuneRequest, WireTuneEvent, WireTuneResult } from '../../protocol/tune';
import { presetFile } from '../graph/presets';
import { EngineService } from './service';

const dir = mkdtempSync(join(tmpdir(), 'lagrange-tune-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = new Map<string, WireTuneEvent[]>();
const service = new EngineService(() => {}, { tune: { dir, emit: (id, e) => void events.set(id, [...(events.get(id) ?? []), e]) } });
const ddiff = JSON.parse(readFileSync(presetFile('ddiff')!, 'utf8')) as Record<string, unknown>;

const request = (over: Partial<TuneRequest> = {}): TuneRequest => ({
  doc: ddiff,
  task: 'inpaint-box',
  ranges: [{ node: 'x', param: 'gamma0', kind: 'log', lo: 5, hi: 200 }],
  val: ['model:fmnist-32/heldout/05.png'],
  test: ['model:fmnist-32/heldout/06.png'],
  budget: { trials: 2 },
  objective: 'psnr',
  iterations: 8,
  ...over,
});

/** Resolves with a search's events once its last one has arrived. */
async function finished(tuneId: string): Promise<WireTuneEvent[]> {
  await expect.poll(() => events.get(tuneId)?.some((e) => ['tune-done', 'tune-cancelled', 'tune-error'].includes(e.type)), { timeout: 60_000, interval: 50 }).toBe(true);
  return events.get(tuneId)!;
}

describe('tune.start', () => {
  it('streams the plan, every trial and the best with its test scores, and writes the tuned preset', async () => {
    const { tuneId } = (await service.handle('tune.start', request())) as { tuneId: string };
    // One search at a time per connection.
    await expect(service.handle('tune.start', request())).rejects.toThrow(/already running/);
    const seen = await finished(tuneId);
    const done = seen.at(-1)!;
    expect(done.type, JSON.stringify(done)).toBe('tune-done');
    const res = (done as { result: WireTuneResult }).result;
    expect(seen.map((e) => (e.type === 'tune-phase' ? e.phase : e.type)).filter((t, i, a) => a.indexOf(t) === i)).toEqual([
      'starting',
      'defaults',
      'tune-plan',
      'search',
      'tune-rung',
      'tune-trial',
      'test',
      'tune-done',
    ]);
    const plan = seen.find((e) => e.type === 'tune-plan')!;
    expect(plan.type === 'tune-plan' && plan.trials.length).toBe(3); // the preset's values + 2
    expect(res.trials[0]!.point).toEqual({ x: { gamma0: 30 } }); // the preset's inpainting value
    const trialEvents = seen.filter((e) => e.type === 'tune-trial');
    expect(trialEvents.length).toBe(res.rungs.reduce((n, r) => n + r.trials, 0));
    const best = res.trials[res.best]!.point.x!.gamma0 as number;
    expect(best).toBeGreaterThanOrEqual(5);
    expect(best).toBeLessThanOrEqual(200);
    expect(res.tuned.overrides['task:inpaint-box']!.x!.gamma0).toBe(best);
    for (const s of [res.val.defaults, res.val.best, res.test.defaults, res.test.best]) expect(s.psnr.length).toBe(1);
    // The best is at least as good as the preset's values on the validation image it was chosen on.
    expect(res.val.best.psnr[0]!).toBeGreaterThanOrEqual(res.val.defaults.psnr[0]! - 1e-9);
    for (const f of ['results.jsonl', 'tune.json', 'report.html', 'ddiff-tuned.lagrange.json']) expect(existsSync(join(res.folder, f)), f).toBe(true);

    // The same request again: every row is in the folder already, so the same answer, from there.
    const again = (await service.handle('tune.start', request())) as { tuneId: string };
    const redo = (await finished(again.tuneId)).at(-1) as { type: string; result: WireTuneResult };
    expect(redo.result.folder).toBe(res.folder);
    expect(redo.result.trials).toEqual(res.trials);
    const rows = readFileSync(join(res.folder, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(new Set(rows.map((l) => (JSON.parse(l) as { key: string }).key)).size).toBe(rows.length);
  }, 60_000);

  it('stops on tune.cancel with tune-cancelled', async () => {
    const { tuneId } = (await service.handle('tune.start', request({ seed: 7, budget: { trials: 6 } }))) as { tuneId: string };
    await expect.poll(() => events.get(tuneId)?.some((e) => e.type === 'tune-phase' && e.phase === 'defaults'), { timeout: 30_000, interval: 20 }).toBe(true);
    expect(await service.handle('tune.cancel', { tuneId })).toEqual({ cancelled: true });
    expect((await finished(tuneId)).at(-1)!.type).toBe('tune-cancelled');
  }, 40_000);

  it('refuses a range the node schema does not allow, naming the node and parameter', async () => {
    await expect(service.handle('tune.start', request({ ranges: [{ node: 'x', param: 'gamma0', kind: 'linear', lo: -1, hi: 2 }] }))).rejects.toThrow(
      /node "x" \(XUpdate\) parameter 'gamma0'/,
    );
    await expect(service.handle('tune.start', request({ ranges: [{ node: 'nope', param: 'a', kind: 'linear', lo: 0, hi: 1 }] }))).rejects.toThrow(/no node "nope"/);
    await expect(new EngineService(() => {}).handle('tune.start', request())).rejects.toThrow(/does not run parameter searches/);
  });
});
