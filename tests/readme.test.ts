/**
 * The README's shell examples, run as a reader would: every command of its ```sh blocks, in
 * order, in one temporary working directory (with `resources/` linked in, since the examples name
 * paths relative to the checkout), through the CLI's `main`. Solver runs get a CI-sized iteration
 * count and must beat their measurement: every sample's PSNR above that of y itself, and a
 * residual within the noise. A command the README gains must be handled here (run, or skipped
 * with a reason), or this test fails.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { psnr } from '../src/engine/metrics/psnr';
import type { RunInputs } from '../src/engine/runtime/worker/client';

const ROOT = new URL('..', import.meta.url).pathname;

/** The measurement (y, and the truth) each solver run used, as the engine hands it to the CLI. */
const inputs = vi.hoisted((): RunInputs[] => []);
vi.mock('../src/engine/runtime/worker/client', async (load) => {
  const real = await load<typeof import('../src/engine/runtime/worker/client')>();
  const runInWorker: typeof real.runInWorker = (doc, opts, cb = {}) => real.runInWorker(doc, opts, { ...cb, onInputs: (m) => (inputs.push(m), cb.onInputs?.(m)) });
  return { ...real, runInWorker };
});

/**
 * The commands of the ```sh blocks of a Markdown text: `\` continuations joined, `# …` comments
 * and blank lines dropped, whitespace collapsed.
 */
function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    const text = block[1]!.replace(/\\\n/g, ' ');
    for (const line of text.split('\n')) {
      const cmd = line
        .replace(/(^|\s)#.*$/, '')
        .trim()
        .replace(/\s+/g, ' ');
      if (cmd) commands.push(cmd);
    }
  }
  return commands;
}

/** Commands not run here, each with why; an entry the README no longer has fails the test. */
const SKIPPED: Record<string, string> = {
  'npm ci && npm start': 'opens the studio (a GUI) and serves until closed',
  'npm ci && npm test': 'the whole suite, this test included',
  'npx lagrange eval --solvers ddiff,diffpir,tikhonov,measurement --tasks all --images model:fmnist-32/heldout --count 16 --prior fmnist-32 --sigma 0.05 --out runs/study':
    'a study (4 solvers × 8 tasks × 16 images, minutes); tests/eval.test.ts covers eval',
};

/** Iterations a solver run gets here, per preset: enough to beat the measurement, a few seconds. */
const CI_ITERATIONS: Record<string, number> = { ddiff: 200, daps: 40 };
/** Steps of `lagrange sample` here (the README's 100 × 64 samples take about a minute on 2 cores). */
const CI_SAMPLE_STEPS = 5;
/** Subcommands run as written whose only check is a zero exit (and their own output). */
const PLAIN = new Set(['tasks', 'presets', 'models']);

/** The value of `--flag` in args, if given. */
function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** args with `--flag value` set to `value` (replaced where present, else appended). */
function withFlag(args: readonly string[], name: string, value: string): string[] {
  const i = args.indexOf(name);
  return i >= 0 ? args.map((a, k) => (k === i + 1 ? value : a)) : [...args, name, value];
}

/** What to run for a README command (CI-sized), or why it cannot be handled. */
function plan(cmd: string): { args: string[] } | { unhandled: string } {
  const words = cmd.split(' ');
  if (words[0] !== 'npx' || words[1] !== 'lagrange') return { unhandled: 'not a `npx lagrange …` command' };
  const args = words.slice(2);
  const sub = args[0]!;
  if (PLAIN.has(sub) || sub === 'simulate') return { args };
  if (sub === 'sample') return { args: withFlag(args, '--steps', String(CI_SAMPLE_STEPS)) };
  if (sub === 'run') {
    if (flag(args, '--iterations')) return { args };
    const k = CI_ITERATIONS[args[1]!];
    return k ? { args: withFlag(args, '--iterations', String(k)) } : { unhandled: `no CI iteration count for preset ${args[1]}; add it to CI_ITERATIONS` };
  }
  return { unhandled: `subcommand ${sub} is neither run here nor in SKIPPED` };
}

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const commands = shellCommands(readme);
const work = mkdtempSync(join(tmpdir(), 'lagrange-readme-'));
const home = process.cwd();
const modelsEnv = process.env.LAGRANGE_MODELS;

beforeAll(() => {
  symlinkSync(join(ROOT, 'resources'), join(work, 'resources'));
  // No user models: `models list` and name lookups see the bundled ones only.
  mkdirSync(join(work, 'user-models'));
  process.env.LAGRANGE_MODELS = join(work, 'user-models');
  process.chdir(work);
});

afterAll(() => {
  process.chdir(home);
  if (modelsEnv === undefined) delete process.env.LAGRANGE_MODELS;
  else process.env.LAGRANGE_MODELS = modelsEnv;
});

describe('README shell examples', () => {
  it('are all handled here: run, or skipped with a reason', () => {
    expect(commands.length).toBeGreaterThan(8);
    const unhandled = commands
      .filter((c) => !(c in SKIPPED))
      .map((c) => [c, plan(c)] as const)
      .filter(([, p]) => 'unhandled' in p);
    expect(unhandled.map(([c, p]) => `${c}: ${(p as { unhandled: string }).unhandled}`)).toEqual([]);
    expect(
      Object.keys(SKIPPED).filter((c) => !commands.includes(c)),
      'SKIPPED entries the README no longer has',
    ).toEqual([]);
  });

  /** PSNR of each sample and of the measurement itself, for the report at the end. */
  const scores: string[] = [];
  afterAll(() => console.log(`README solver runs (CI-sized):\n${scores.join('\n')}`));

  for (const cmd of commands.filter((c) => !(c in SKIPPED))) {
    const p = plan(cmd);
    if ('unhandled' in p) continue; // reported by the test above
    it(
      cmd,
      async () => {
        inputs.length = 0;
        const out: string[] = [],
          err: string[] = [];
        const code = await main(['node', 'lagrange', ...p.args], { out: (l) => out.push(l), err: (l) => err.push(l) });
        expect(err, out.join('\n')).toEqual([]);
        expect(code).toBe(0);
        const sub = p.args[0]!;
        const dir = flag(p.args, '--out')!;
        if (sub === 'simulate') {
          const record = JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8'));
          // A bundle for the bundled prior holds a 1×32×32 image (gray, resized).
          if (flag(p.args, '--prior') === 'fmnist-32') expect(record.shapes.x).toEqual([1, 1, 32, 32]);
        }
        if (sub === 'sample') expect(existsSync(dir)).toBe(true);
        if (sub !== 'run') return;
        const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
        expect(report.status).toBe('done');
        expect(inputs).toHaveLength(1);
        const { y, truth } = inputs[0]!;
        expect(truth, 'README solver examples measure a known image').toBeDefined();
        expect(y.shape, 'y is an image of the same shape as x, so its own PSNR is the baseline').toEqual(truth!.shape);
        const baseline = psnr(y, truth!)[0]!;
        const got = report.metrics.psnr as number[];
        scores.push(
          `${cmd}\n  ${report.iterations} iterations: PSNR ${got.map((v) => v.toFixed(2)).join(', ')} dB vs measurement ${baseline.toFixed(2)} dB; residual/σ ${report.metrics.normalisedResidual.map((v: number) => v.toFixed(2)).join(', ')}`,
        );
        for (const v of got) expect(v, `PSNR of a sample vs the measurement's ${baseline.toFixed(2)} dB`).toBeGreaterThan(baseline + 0.5);
        // Consistent with y: the residual is of the order of the noise (σ_y√m), not many σ off.
        for (const r of report.metrics.normalisedResidual as number[]) expect(r).toBeLessThan(2);
      },
      90_000,
    );
  }
});
