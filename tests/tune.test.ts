/**
 * `lagrange tune` end to end on the analytic Gaussian prior at 16 px: a preset whose DiffPIR λ is
 * deliberately bad for SR ×4 (λ 1000 all but ignores the measurement) must be improved on the
 * validation images; the halving promotes the best of each rung; a re-run resumes without a new
 * row; and the written preset runs with the tuned value in effect.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { promote } from '../src/engine/tune/halving';
import type { Rung } from '../src/engine/tune/halving';
import type { Trial } from '../src/engine/tune/tune';
import { cli } from './helpers/cli';

const ROOT = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-tune-'));
const bad = join(tmp, 'diffpir-bad.lagrange.json');
const img = (i: number): string => `model:fmnist-32/heldout/${String(i).padStart(2, '0')}.png`;

interface TuneJson {
  trials: Trial[];
  rungs: Rung[];
  best: number;
  val: { defaults: { psnr: number[] }; best: { psnr: number[] } };
  test: { defaults: { psnr: number[] }; best: { psnr: number[] } };
  preset: string;
}

const out = join(tmp, 'search');
const args = [
  'tune',
  bad,
  '--task',
  'sr4',
  '--param',
  'x.lambda=0.01:100:log',
  '--val',
  img(8),
  img(9),
  '--test',
  img(0),
  img(1),
  '--budget',
  '8',
  '--prior',
  'gaussian',
  '--size',
  '16',
  '--iterations',
  '12',
  '--seed',
  '5',
  '--out',
  out,
];
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
let first: TuneJson;

beforeAll(async () => {
  const doc = JSON.parse(readFileSync(join(ROOT, 'resources/presets/diffpir.lagrange.json'), 'utf8')) as { name: string; overrides: Record<string, Record<string, unknown>> };
  doc.name = 'diffpir-bad';
  doc.overrides['task:sr4'] = { ...doc.overrides['task:sr4'], x: { lambda: 1000 } };
  writeFileSync(bad, JSON.stringify(doc));
  const r = await cli(...args);
  expect(r.code, r.err.join('\n')).toBe(0);
  first = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8')) as TuneJson;
}, 60_000);

describe('lagrange tune', () => {
  it('improves the validation PSNR of a bad λ and reports the test split of both', () => {
    expect(first.trials[0]!.point).toEqual({ x: { lambda: 1000 } });
    expect(first.best).not.toBe(0);
    // λ 1000 scores ~7 dB on SR ×4 here, λ ≤ 1 about twice that.
    expect(mean(first.val.best.psnr)).toBeGreaterThan(mean(first.val.defaults.psnr) + 3);
    expect(first.val.best.psnr).toHaveLength(2);
    expect(first.test.best.psnr).toHaveLength(2);
    expect(mean(first.test.best.psnr)).toBeGreaterThan(mean(first.test.defaults.psnr) + 3);
    expect(first.trials[first.best]!.point.x!.lambda as number).toBeLessThan(10);
  });

  it('promotes exactly the best of each rung, and the best is the best of the last', () => {
    expect(first.rungs.length).toBeGreaterThan(1);
    expect(first.rungs.at(-1)).toMatchObject({ iterations: 12, images: 2 });
    expect(first.rungs[0]!.iterations).toBeLessThan(12);
    for (const g of first.rungs.slice(0, -1)) {
      const at = new Map(first.trials.filter((t) => t.scores[g.index] !== undefined).map((t) => [t.id, t.scores[g.index]!]));
      const next = first.rungs[g.index + 1]!;
      const promoted = first.trials.filter((t) => t.scores[next.index] !== undefined).map((t) => t.id);
      expect(at.size).toBe(g.trials);
      expect(promoted.sort()).toEqual(promote(at, next.trials, 'psnr').sort());
    }
    const last = first.rungs.at(-1)!.index;
    const finals = first.trials.filter((t) => t.scores[last] !== undefined);
    expect(Math.max(...finals.map((t) => t.scores[last]!))).toBe(first.trials[first.best]!.scores[last]);
  });

  it('resumes: the same command runs no new row and finds the same trials', async () => {
    const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').length;
    const r = await cli(...args);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(rows);
    const again = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8')) as TuneJson;
    expect(again.trials).toEqual(first.trials);
    expect(again.best).toBe(first.best);
  });

  it('writes a preset that runs with the tuned λ, and a report with a plot per parameter', async () => {
    const lambda = first.trials[first.best]!.point.x!.lambda;
    const tuned = JSON.parse(readFileSync(first.preset, 'utf8')) as {
      name: string;
      overrides: Record<string, { x?: { lambda?: number } }>;
      reference: { tuned: { note: string } };
    };
    expect(tuned.name).toBe('diffpir-bad-tuned');
    expect(tuned.overrides['task:sr4']!.x!.lambda).toBe(lambda);
    expect(tuned.reference.tuned.note).toMatch(/psnr on 2 validation image/);
    const run = join(tmp, 'run');
    const r = await cli('run', first.preset, '--task', 'sr4', '--image', img(8), '--size', '16', '--prior', 'gaussian', '--iterations', '12', '--out', run);
    expect(r.code, r.err.join('\n')).toBe(0);
    const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')) as { effectiveParams: Record<string, Record<string, unknown>> };
    expect(report.effectiveParams.x!.lambda).toBe(lambda);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| test \| tuned \(trial \d+\) \| 2 \|/);
    expect(md).toContain('![x.lambda](plots/x.lambda.svg)');
    expect(readFileSync(join(out, 'plots/x.lambda.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<circle[\s\S]*<\/svg>/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  it('spends an NFE budget: the most trials whose plan fits, and refuses one too small for any', async () => {
    const dir = join(tmp, 'nfe');
    const flags = (budget: string, o: string): string[] => args.map((a, i) => (args[i - 1] === '--budget' ? budget : args[i - 1] === '--out' ? o : a));
    const r = await cli(...flags('600nfe', dir));
    expect(r.code, r.err.join('\n')).toBe(0);
    const t = JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8')) as TuneJson & { nfe: number };
    expect(t.trials.length).toBeGreaterThan(4);
    expect(t.nfe).toBeLessThanOrEqual(600);
    // DiffPIR spends one NFE per iteration: 2 validation images at K 12 cost 24, the tests 48 more.
    const small = await cli(...flags('80nfe', join(tmp, 'nfe-small')));
    expect(small.code).toBe(1);
    expect(small.err.join('\n')).toMatch(/--budget 80 NFE: not enough for one trial beside the defaults \(a full-budget run costs 12 NFE per image\)/);
  });

  it('keeps the preset’s values when no trial beats them (DiffPIR’s own λ 1 against λ ≥ 300)', async () => {
    const dir = join(tmp, 'worse');
    const r = await cli(
      ...args.map((a, i) => (a === bad ? 'diffpir' : args[i - 1] === '--param' ? 'x.lambda=300:1000' : args[i - 1] === '--out' ? dir : args[i - 1] === '--budget' ? '3' : a)),
    );
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.join('\n')).toContain('no trial beat the preset; its values are kept');
    const t = JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8')) as TuneJson;
    expect(t.best).toBe(0);
    expect(t.test.best).toEqual(t.test.defaults);
  });

  it.each([
    [['--param', 'x.lambda=0:1'], /--param x\.lambda=0:1: 0 is out of range; node "x" \(XUpdate\) parameter 'lambda' must be a number > 0/],
    [['--param', 'y.lambda=1:2'], /has no node "y"/],
    [['--param', 'x.lambda=1:2', '--objective', 'lpips'], /--objective lpips needs an LPIPS network: --lpips <dir>/],
    [['--param', 'x.lambda=1:2', '--objective', 'mse'], /--objective must be one of psnr, ssim, lpips, residual, got 'mse'/],
    [['--param', 'x.lambda=1:2', '--budget', 'lots'], /--budget must be a number of trials \(e\.g\. 24\) or of NFE/],
    [['--param', 'x.lambda=1:2', '--task', 'deblur'], /--task: unknown task 'deblur'; tasks: /],
    [['--param', 'x.lambda=1:2', '--test', img(8)], /--test: model:fmnist-32\/heldout\/08\.png also in --val; the test images must be held out of the search/],
    [['--param', 'schedule.iterations=4:8', '--iterations', '6'], /--iterations 6 would fix K in every run, so the tuned Schedule iterations would not apply/],
  ])('refuses %j with a clear message and runs nothing', async (extra, message) => {
    const dir = join(tmp, `refused-${Math.random().toString(36).slice(2)}`);
    const base = ['tune', 'diffpir', '--task', 'sr4', '--val', img(8), '--test', img(0), '--budget', '2', '--prior', 'gaussian', '--size', '16', '--out', dir];
    const flags = [...base];
    for (let i = 0; i < extra.length; i += 2) {
      const at = flags.indexOf(extra[i]!);
      if (at >= 0) flags[at + 1] = extra[i + 1]!;
      else flags.push(extra[i]!, extra[i + 1]!);
    }
    const r = await cli(...flags);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(message);
    expect(existsSync(join(dir, 'results.jsonl'))).toBe(false);
  });
});
