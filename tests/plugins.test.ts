/**
 * Plugins as a user installs them: the fixture folders (tests/fixtures/plugins) found through
 * LAGRANGE_PLUGINS, the good one loaded with what it registers, each bad one refused with its exact
 * reason and rolled back, `lagrange plugins list`, tasks and presets marked with their plugin, the
 * message for a graph whose plugin is missing, and a simulate → run round trip in child processes
 * (so the run's worker thread loaded the plugin too).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeKind, nodeKindOrigin } from '../src/nodes/index';
import { cli } from './helpers/cli';
import { describeTasks, tasksJson } from '../src/cli/tasks';
import { presetSummaries } from '../src/cli/run';
import { withMeasurement } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import type { GraphDocument } from '../src/engine/graph/format';
import { presetFile } from '../src/engine/graph/presets';
import { validateGraph } from '../src/engine/graph/validate';
import { EngineService } from '../src/engine/api/service';
import type { NodeCatalog } from '../src/protocol/catalog';
import { readNpy } from '../src/engine/io/npy';
import { operatorOrigin, operatorSpecs } from '../src/engine/operators/registry';
import { loadPlugins, pluginReport } from '../src/engine/plugin/load';
import { compile } from '../src/engine/compile/compile';
import type { RunEvent } from '../src/engine/runtime/events';
import { executors } from '../src/engine/runtime/executors';
import { runPlan } from '../src/engine/runtime/run';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'tests/fixtures/plugins');
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-plugins-'));
// A home without ~/.lagrange/plugins, so only the fixtures load (os.homedir() reads HOME).
process.env.HOME = tmp;
process.env.LAGRANGE_PLUGINS = FIXTURES;

const record = (name: string) => pluginReport().find((r) => r.name === name)!;
const preset = (name: string): GraphDocument => parseGraph(JSON.parse(readFileSync(presetFile(name)!, 'utf8')));

beforeAll(async () => {
  await loadPlugins();
});

describe('loading the fixture plugins', () => {
  it('loads the good plugin with what it registered', () => {
    const r = record('box-blur');
    expect(r).toMatchObject({ status: 'loaded', version: '0.1.0', source: 'env', folder: join(FIXTURES, 'box-blur') });
    expect(r.registered).toEqual({ operators: [{ id: 'box1d', nodeKind: 'BoxBlur1D' }], nodeKinds: ['Halve'] });
    expect(operatorOrigin('box1d')).toBe('box-blur');
    expect(nodeKindOrigin('Halve')).toBe('box-blur');
  });

  it('derives the operator node kind from the spec: every parameter optional, the same ranges', () => {
    const kind = nodeKind('BoxBlur1D')!;
    expect(kind).toMatchObject({ title: '1-D box blur', category: 'operator', task: 'box1d', outputs: [{ name: 'operator', type: 'operator' }] });
    expect(kind.params.safeParse({}).success).toBe(true);
    expect(kind.params.safeParse({ width: 5 }).success).toBe(true);
    expect(kind.params.safeParse({ width: 0 }).success).toBe(false);
  });

  it('registers the per-iteration node kind with its executor', async () => {
    expect(nodeKind('Halve')).toMatchObject({ category: 'update', inputs: [{ name: 'x' }], outputs: [{ name: 'y' }] });
    const x = tensor([1, 1, 1, 3], [2, -4, 1]);
    const ctx = { k: 0, node: 'h', params: {}, input: () => x, rng: () => undefined as never, warn: () => {} };
    const { y } = await executors.Halve!(ctx);
    expect(Array.from(y!.data)).toEqual([1, -2, 0.5]);
  });

  it.each([
    ['api-two', "plugin 'api-two': lagrange.plugin.json: apiVersion 2 is not supported; this engine supports plugin API version 1"],
    ['bad-manifest', "plugin 'bad-manifest': lagrange.plugin.json: unknown key 'entrypoint'; keys: name, version, apiVersion, entry, description, presets"],
    ['clash', "plugin 'clash': operator 'sr4' of plugin 'clash' clashes with the built-in operator 'sr4'"],
    ['throws', "plugin 'throws': register(api) threw: no licence file found"],
  ])('refuses %s with its reason', (name, reason) => {
    expect(record(name)).toMatchObject({ status: 'refused', reason, registered: { operators: [], nodeKinds: [] } });
  });

  it('refuses an operator whose adjoint fails the adjoint test, naming the property and the error', () => {
    const r = record('wrong-adjoint');
    expect(r.status).toBe('refused');
    expect(r.reason).toMatch(
      /^plugin 'wrong-adjoint': operator 'wrong-adjoint' fails checkOperator: adjoint: relative error (\d\.\de-\d+) > 1\.0e-5 — the adjoint is not the transpose of apply \(on a 1×16×16 image\)/,
    );
    // The measured error is far above float32 round-off: 1e-1 for this 2-tap causal blur.
    expect(Number(/relative error (\S+)/.exec(r.reason!)![1])).toBeGreaterThan(1e-2);
  });

  it('rolls back everything a refused plugin registered and leaves the built-ins alone', () => {
    const ids = operatorSpecs().map((s) => s.id);
    for (const id of ['clash-ok', 'throws-op', 'wrong-adjoint']) expect(ids).not.toContain(id);
    for (const kind of ['ClashOk', 'MySuperResolution', 'ThrowsOp', 'WrongAdjoint', 'WrongAdjointHelper']) expect(nodeKind(kind)).toBeUndefined();
    expect(executors.WrongAdjointHelper).toBeUndefined();
    expect(operatorOrigin('sr4')).toBe('builtin');
    expect(ids.filter((id) => id === 'sr4')).toHaveLength(1);
  });

  it('loads once: a second call registers nothing again; a folder added later loads then', async () => {
    const before = pluginReport().length;
    await loadPlugins();
    expect(pluginReport()).toHaveLength(before);
    const twin = join(tmp, 'copy-of-box-blur');
    cpSync(join(FIXTURES, 'box-blur'), twin, { recursive: true });
    process.env.LAGRANGE_PLUGINS = [FIXTURES, twin, join(tmp, 'nowhere')].join(delimiter);
    await loadPlugins();
    const added = pluginReport().slice(before);
    expect(added.map((r) => [r.status, r.reason])).toEqual([
      ['refused', `plugin 'box-blur': a plugin of that name is already loaded from ${join(FIXTURES, 'box-blur')}`],
      ['refused', `LAGRANGE_PLUGINS entry ${join(tmp, 'nowhere')}: no such folder`],
    ]);
    expect(operatorOrigin('box1d')).toBe('box-blur');
    process.env.LAGRANGE_PLUGINS = FIXTURES;
  });
});

describe('a run through a plugin node kind', () => {
  it('executes the per-iteration kind in the loop: Halve(x̂₀) previews as x̂₀ / 2', async () => {
    const doc = preset('box-ddiff');
    doc.run.iterations = 4;
    doc.nodes.push({ id: 'half', kind: 'Halve', plugin: 'box-blur', params: {} });
    doc.nodes.push({ id: 'preview-half', kind: 'Preview', params: { label: 'x̂₀ / 2', every: 1 } });
    doc.edges.push({ source: 'z', sourcePort: 'x0', target: 'half', targetPort: 'x' }, { source: 'half', sourcePort: 'y', target: 'preview-half', targetPort: 'image' });
    const pz = doc.nodes.find((n) => n.id === 'preview-z')!;
    pz.params = { ...pz.params, every: 1 };
    const plan = await compile(parseGraph(doc));
    // Only a Preview reads it, so it runs after the body in the iterations the preview shows (a tap).
    expect(plan.taps.map((s) => s.kind)).toContain('Halve');
    const frames = new Map<string, Uint8ClampedArray>();
    const r = await runPlan(plan, { throttleMs: 0, onEvent: (e: RunEvent) => e.type === 'preview' && e.iteration === 3 && frames.set(e.nodeId, e.rgba) });
    expect(r.status).toBe('done');
    const full = frames.get('preview-z')!;
    const half = frames.get('preview-half')!;
    // 8-bit pictures of v ∈ [−1, 1] at p = 255(v + 1)/2: halving v maps p to (p + 127.5)/2.
    let worst = 0;
    for (let i = 0; i < full.length; i += 4) worst = Math.max(worst, Math.abs(half[i]! - (full[i]! + 127.5) / 2));
    expect(full.length).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('the CLI with plugins', () => {
  it('lagrange plugins list shows what loaded and why the rest did not', async () => {
    const r = await cli('plugins', 'list');
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(new RegExp(`^box-blur +0\\.1\\.0 +loaded +${join(FIXTURES, 'box-blur')}$`, 'm'));
    expect(text).toContain('  operators: box1d (node BoxBlur1D)\n  node kinds: Halve\n  presets: box-ddiff');
    expect(text).toMatch(/^throws +0\.1\.0 +refused .*\n {2}plugin 'throws': register\(api\) threw: no licence file found$/m);
    expect(r.err).toEqual([]); // the listing reports refusals itself
    const json = JSON.parse((await cli('plugins', 'list', '--json')).out.join('')) as { plugins: { name: string; status: string; operators: unknown[]; presets: string[] }[] };
    expect(json.plugins.find((p) => p.name === 'box-blur')).toMatchObject({ status: 'loaded', operators: [{ id: 'box1d', nodeKind: 'BoxBlur1D' }], presets: ['box-ddiff'] });
    expect(json.plugins.filter((p) => p.status === 'refused').map((p) => p.name)).toEqual(expect.arrayContaining(['api-two', 'bad-manifest', 'clash', 'throws', 'wrong-adjoint']));
  });

  it('other commands name each refused plugin on stderr and carry on', async () => {
    const r = await cli('tasks', '--size', '16');
    expect(r.code).toBe(0);
    expect(r.err).toContain(`lagrange: plugin 'throws': register(api) threw: no licence file found (${join(FIXTURES, 'throws')}); skipped`);
  });

  it('lagrange tasks and presets mark the plugin operators and presets', () => {
    expect(describeTasks(16)).toContain('box1d             A = causal box blur of width w along rows (test fixture) [plugin box-blur]');
    expect(tasksJson(16).find((t) => (t as { id: string }).id === 'box1d')).toMatchObject({ plugin: 'box-blur', params: { width: 3 } });
    expect(tasksJson(16).find((t) => (t as { id: string }).id === 'sr4')).not.toHaveProperty('plugin');
    expect(presetSummaries().find((p) => p.name === 'box-ddiff')).toMatchObject({ plugin: 'box-blur' });
    expect(presetSummaries().find((p) => p.name === 'ddiff')).not.toHaveProperty('plugin');
  });

  it('--task swaps in a plugin operator and records its plugin on the node', () => {
    const doc = withMeasurement(preset('ddiff'), { kind: 'simulate', task: 'box1d' });
    expect(doc.nodes.find((n) => n.id === 'A')).toMatchObject({ kind: 'BoxBlur1D', plugin: 'box-blur', params: {} });
    expect(validateGraph(doc).errors).toEqual([]);
    const back = withMeasurement(doc, { kind: 'simulate', task: 'sr4' });
    expect(back.nodes.find((n) => n.id === 'A')).not.toHaveProperty('plugin');
  });
});

describe('the engine service with plugins', () => {
  it('nodes.catalog carries the plugin kinds with their plugin, and what the loader did with each plugin', async () => {
    const catalog = (await new EngineService(() => {}).handle('nodes.catalog', {})) as NodeCatalog;
    expect(catalog.kinds.find((k) => k.kind === 'BoxBlur1D')).toMatchObject({ task: 'box1d', plugin: { name: 'box-blur', version: '0.1.0' } });
    expect(catalog.plugins.find((p) => p.name === 'box-blur')).toMatchObject({ status: 'loaded', version: '0.1.0', kinds: ['BoxBlur1D', 'Halve'] });
    expect(catalog.plugins.find((p) => p.name === 'throws')).toMatchObject({ status: 'refused', reason: "plugin 'throws': register(api) threw: no licence file found", kinds: [] });
  });

  it('presets.list offers the plugin presets after the product own, marked; presets.get opens one', async () => {
    const service = new EngineService(() => {});
    const list = (await service.handle('presets.list', {})) as { name: string; plugin?: string }[];
    expect(list.find((p) => p.name === 'box-ddiff')).toMatchObject({ plugin: 'box-blur' });
    expect(list.findIndex((p) => p.name === 'box-ddiff')).toBeGreaterThan(list.findIndex((p) => p.name === 'ddiff'));
    const doc = (await service.handle('presets.get', { name: 'box-ddiff' })) as GraphDocument;
    expect(doc.nodes.find((n) => n.id === 'A')).toMatchObject({ kind: 'BoxBlur1D', plugin: 'box-blur' });
  });
});

describe('a graph that needs a plugin', () => {
  const withNode = (node: Record<string, unknown>): GraphDocument => {
    const doc = preset('ddiff');
    const i = doc.nodes.findIndex((n) => n.id === 'A');
    doc.nodes[i] = { ...doc.nodes[i]!, ...node, params: {} } as GraphDocument['nodes'][number];
    return parseGraph(doc);
  };

  it('names the plugin that is not loaded, and only that', () => {
    const r = validateGraph(withNode({ id: 'A', kind: 'ParallelBeamCT', plugin: 'ct' }));
    expect(r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      `nodes[1].kind: node "A" (ParallelBeamCT) comes from plugin 'ct', which is not loaded; put it in ~/.lagrange/plugins or pass --plugin <dir>`,
    ]);
  });

  it('says a refused plugin was refused, and why', () => {
    const r = validateGraph(withNode({ kind: 'WrongAdjoint', plugin: 'wrong-adjoint' }));
    expect(r.errors[0]!.message).toMatch(
      /^node "A" \(WrongAdjoint\) comes from plugin 'wrong-adjoint', which was refused \(plugin 'wrong-adjoint': operator 'wrong-adjoint' fails checkOperator: adjoint: /,
    );
  });

  it('without the field: no loaded plugin declares the kind, listing the loaded plugins', () => {
    const r = validateGraph(withNode({ kind: 'ParallelBeamCT' }));
    expect(r.errors[0]!.message).toMatch(
      /^node "A" \(ParallelBeamCT\): unknown node kind 'ParallelBeamCT'; no loaded plugin declares it \(plugins loaded: box-blur\); known kinds: ImageInput, /,
    );
  });

  it('refuses a plugin field that is not a plugin name', () => {
    expect(() => withNode({ plugin: '../ct' })).toThrow(/nodes\[1\]\.plugin: /);
  });
});

describe('simulate and run a plugin operator in child processes', () => {
  const bin = join(ROOT, 'bin/lagrange.mjs');
  // A clean environment: the plugin comes only from --plugin, which the run's worker must inherit.
  const env = { ...process.env, HOME: tmp, LAGRANGE_PLUGINS: '' };
  const lagrange = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  const plugin = ['--plugin', join(FIXTURES, 'box-blur')];

  it('lagrange simulate --task box1d, then lagrange run ddiff --measurement on it', () => {
    const m = join(tmp, 'box1d');
    const sim = lagrange(...plugin, 'simulate', '--task', 'box1d', '--image', 'sample:astronaut', '--size', '16', '--seed', '1', '--out', m);
    expect(sim.stderr).toBe('');
    expect(sim.status).toBe(0);
    expect(JSON.parse(readFileSync(join(m, 'task.json'), 'utf8'))).toMatchObject({ task: 'box1d', params: { width: 3 }, plugin: { name: 'box-blur', version: '0.1.0' } });

    const out = join(tmp, 'run');
    const run = lagrange('run', 'ddiff', ...plugin, '--measurement', m, '--prior', 'gaussian', '--iterations', '100', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { task: string; status: string; metrics: { psnr: number[] } };
    expect(report).toMatchObject({ task: 'box1d', status: 'done' });
    // The solver improves on the blurred, noisy measurement itself (16.5 dB vs 18.4 dB when measured).
    const x = readNpy(join(m, 'x.npy')).data;
    const y = readNpy(join(m, 'y.npy')).data;
    const mse = y.reduce((s, v, i) => s + (v - x[i]!) ** 2, 0) / y.length;
    expect(report.metrics.psnr[0]!).toBeGreaterThan(10 * Math.log10(4 / mse) + 1);

    // Installed in ~/.lagrange/plugins instead, it loads from there with no flag.
    const home = join(tmp, 'home');
    cpSync(join(FIXTURES, 'box-blur'), join(home, '.lagrange/plugins/box-blur'), { recursive: true });
    const listed = spawnSync(process.execPath, [bin, 'plugins', 'list', '--json'], { encoding: 'utf8', env: { ...env, HOME: home }, timeout: 120_000 });
    expect((JSON.parse(listed.stdout) as { plugins: unknown[] }).plugins).toMatchObject([
      { name: 'box-blur', source: 'home', status: 'loaded', folder: join(home, '.lagrange/plugins/box-blur') },
    ]);

    // Without the plugin, the bundle says which plugin it needs.
    const missing = lagrange('run', 'ddiff', '--measurement', m, '--prior', 'gaussian', '--iterations', '2', '--out', join(tmp, 'run2'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`task 'box1d' comes from plugin 'box-blur' 0.1.0, which is not loaded; put it in ~/.lagrange/plugins or pass --plugin <dir>`);
  });
});
