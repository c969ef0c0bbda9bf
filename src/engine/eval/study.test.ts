/**
 * results.jsonl survives an interrupted append (the next row starts on its own line instead of
 * joining the torn one), and a row never carries a score JSON cannot hold (NaN/Infinity → null).
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../io/npy';
import { tensor } from '../tensor/tensor';
import type { StudyFailure, StudyRow, StudySpec } from './study';
import { appendRow, readRows, rowKey, rowScoreProblem, runStudy } from './study';

const row = (key: string): StudyRow => ({
  key,
  solver: 'measurement',
  task: 'inpaint-box',
  image: 'sample:astronaut',
  seed: 0,
  sigmaY: 0.05,
  samples: 1,
  psnr: [20],
  ssim: [0.5],
  residual: [0.1],
  nfe: 0,
  wallMs: 1,
  provider: 'none',
  prior: 'none',
});

describe('appendRow', () => {
  it('starts a new line after a torn last line, so the next row is not swallowed', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lagrange-study-')), 'results.jsonl');
    appendRow(file, row('a'));
    appendFileSync(file, '{"key": "torn", "psn'); // an append cut off mid-line
    appendRow(file, row('b'));
    appendRow(file, row('c'));
    expect(readRows(file).map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(readFileSync(file, 'utf8').split('\n')[1]).toBe('{"key": "torn", "psn');
  });

  it('adds no blank line to a file that ends with a newline, or to a new file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lagrange-study-')), 'results.jsonl');
    writeFileSync(file, '');
    appendRow(file, row('a'));
    appendRow(file, row('b'));
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(row('a'))}\n${JSON.stringify(row('b'))}\n`);
  });
});

describe('runStudy', () => {
  const spec: StudySpec = { solvers: ['measurement'], tasks: ['inpaint-box', 'sr4'], images: ['sample:astronaut'], seeds: [0], sigma: 0.05, size: 16 };

  it('resumed after a torn append, keeps the row it writes next', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-study-'));
    await runStudy({ ...spec, tasks: ['inpaint-box'] }, out);
    appendFileSync(join(out, 'results.jsonl'), '{"key": "measurement|sr4|sam'); // killed while writing sr4
    const rows = await runStudy(spec, out);
    expect(rows.map((r) => r.task)).toEqual(['inpaint-box', 'sr4']);
    // Read back as a later resume does: both rows are there, so nothing runs again.
    expect(readRows(join(out, 'results.jsonl')).map((r) => r.task)).toEqual(['inpaint-box', 'sr4']);
  });

  it('reports a ground truth with NaN as a failure naming the file, and writes no null score', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-study-'));
    const image = join(out, 'truth.npy');
    const t = tensor([1, 3, 16, 16], new Float32Array(768).fill(0.25));
    t.data[40] = Number.NaN;
    writeNpy(image, t);
    const failures: StudyFailure[] = [];
    const rows = await runStudy({ ...spec, images: [image], tasks: ['inpaint-box'] }, out, { onFailure: (f) => failures.push(f) });
    expect(rows).toEqual([]);
    expect(failures.map((f) => f.error)).toEqual([`${image}: value NaN at index 40 [0, 0, 2, 8] of 1×3×16×16 is not finite; a .npy input must hold finite numbers`]);
    expect(readRows(join(out, 'results.jsonl'))).toEqual([]);
  });

  it('names a score JSON cannot hold', () => {
    expect(rowScoreProblem(row('a'))).toBeUndefined();
    expect(rowScoreProblem({ ...row('a'), psnr: [21, Infinity] })).toBe(
      'psnr of sample 1 is Infinity, which results.jsonl cannot hold (JSON would write null); the row is not written',
    );
    expect(rowScoreProblem({ ...row('a'), lpips: [Number.NaN] })).toMatch(/^lpips of sample 0 is NaN/);
  });

  it('runs a study with per-run parameters as rows of their own, keyed by the parameters in any order', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-study-'));
    const base: StudySpec = {
      solvers: ['diffpir', 'measurement'],
      tasks: ['inpaint-box'],
      images: ['sample:astronaut'],
      seeds: [0],
      sigma: 0.05,
      size: 16,
      prior: 'gaussian',
      iterations: 10,
    };
    const [stock] = await runStudy(base, out);
    const tuned = await runStudy({ ...base, set: { x: { lambda: 50 } } }, out);
    expect(tuned[0]!.set).toEqual({ x: { lambda: 50 } });
    expect(tuned[0]!.psnr[0]).not.toBeCloseTo(stock!.psnr[0]!, 3);
    expect(tuned[1]!.key).toBe(rowKey('measurement', 'inpaint-box', 'sample:astronaut', 0, base)); // y is y whatever the solver's parameters
    expect(readRows(join(out, 'results.jsonl'))).toHaveLength(3);
    expect(rowKey('ddiff', 't', 'i', 0, { sigma: 0.05, set: { x: { a: 1, b: 2 }, z: { c: 3 } } })).toBe(
      rowKey('ddiff', 't', 'i', 0, { sigma: 0.05, set: { z: { c: 3 }, x: { b: 2, a: 1 } } }),
    );
  });
});
