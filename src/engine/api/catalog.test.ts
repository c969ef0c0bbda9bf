import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as io from '../../nodes/io';
import { addNodeKind } from '../../nodes/index';
import type { NodeKind } from '../../nodes/index';
import * as operators from '../../nodes/operators';
import * as solver from '../../nodes/solver';
import { CATALOG_LIMITS } from '../../protocol/catalog';
import { delimiter, resolve } from 'node:path';
import { loadPlugins } from '../plugin/load';
import { catalogPlugins, nodeCatalog, paramsJsonSchema } from './catalog';

// The declarations themselves, not the registry's list: a kind dropped from the registry shows here.
const declared = [io, solver, operators].flatMap((m) => Object.values(m).filter((v): v is NodeKind => typeof v === 'object' && v !== null && 'kind' in v && 'params' in v));

const removals: (() => void)[] = [];
afterEach(() => {
  while (removals.length) removals.pop()!();
});

const fixtureKind = (kind: string, doc = 'y = Rx, the fixture transform.'): NodeKind =>
  ({
    kind,
    title: 'Fixture transform',
    category: 'update',
    doc,
    inputs: [{ name: 'x', type: 'image', doc: 'input' }],
    outputs: [{ name: 'y', type: 'image', doc: 'output' }],
    params: z.object({
      angles: z.number().int().min(1).max(720).default(60).meta({ unit: 'views' }),
      filter: z.enum(['ramp', 'hann']).default('ramp'),
      scale: z.number().positive().optional(),
    }),
  }) as unknown as NodeKind;

describe('nodeCatalog', () => {
  it('lists every built-in kind, as plain JSON, from the builtin origin', () => {
    expect(declared.length).toBeGreaterThanOrEqual(26);
    const cat = nodeCatalog();
    const byKind = new Map(cat.kinds.map((k) => [k.kind, k]));
    for (const d of declared) {
      const k = byKind.get(d.kind);
      expect(k, d.kind).toBeDefined();
      expect(k!.plugin).toBe('builtin');
      expect(k!.inputs.map((p) => p.name)).toEqual(d.inputs.map((p) => p.name));
      expect(k!.outputs.map((p) => `${p.name}:${p.type}`)).toEqual(d.outputs.map((p) => `${p.name}:${p.type}`));
    }
    expect(byKind.get('GaussianBlur')!.task).toBe('deblur-gauss');
    expect(byKind.get('XUpdate')!.requires).toContainEqual(expect.objectContaining({ port: 'measurement', capability: 'proxL2', conditional: true }));
    expect(JSON.parse(JSON.stringify(cat))).toEqual(cat);
    expect(cat.dropped).toBe(0);
    // The whole answer stays small: the first message the page waits for.
    expect(JSON.stringify(cat).length).toBeLessThan(200_000);
  });

  it("round-trips each built-in kind's defaults, ranges, enums and units through JSON Schema", () => {
    for (const d of declared) {
      const schema = paramsJsonSchema(d);
      const parsed = d.params.safeParse({});
      if (!parsed.success) {
        // A kind with a required parameter (MeasurementInput's path) says so in the schema.
        expect(schema.required?.length, d.kind).toBeGreaterThan(0);
        continue;
      }
      const defaults = parsed.data as Record<string, unknown>;
      const fromSchema = Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([, s]) => s.default !== undefined)
          .map(([k, s]) => [k, s.default]),
      );
      expect(fromSchema, d.kind).toEqual(defaults);
    }
    const xu = paramsJsonSchema(solver.xUpdate).properties!;
    expect(xu.mode).toMatchObject({ enum: ['gradient', 'prox'], default: 'gradient' });
    expect(xu.tGamma).toMatchObject({ type: 'number', minimum: 0, unit: 'timestep' });
    expect(paramsJsonSchema(operators.gaussianBlur).properties!.kernelSize).toMatchObject({ type: 'integer', minimum: 1, maximum: 1023, unit: 'px' });
  });

  it('lists a kind registered at run time with its plugin, version and JSON Schema', () => {
    removals.push(addNodeKind(fixtureKind('FixtureTransform'), 'fixture'));
    const cat = nodeCatalog([{ name: 'fixture', version: '0.2.0', status: 'loaded', kinds: ['FixtureTransform'] }]);
    const k = cat.kinds.find((x) => x.kind === 'FixtureTransform');
    expect(k).toMatchObject({ title: 'Fixture transform', category: 'update', plugin: { name: 'fixture', version: '0.2.0' } });
    expect(k!.params.properties).toEqual({
      angles: { type: 'integer', minimum: 1, maximum: 720, default: 60, unit: 'views' },
      filter: { type: 'string', enum: ['ramp', 'hann'], default: 'ramp' },
      scale: { type: 'number', exclusiveMinimum: 0 },
    });
    expect(cat.plugins).toEqual([{ name: 'fixture', version: '0.2.0', status: 'loaded', kinds: ['FixtureTransform'] }]);
    // Removed again, it is gone from the next answer.
    removals.pop()!();
    expect(nodeCatalog().kinds.some((x) => x.kind === 'FixtureTransform')).toBe(false);
  });

  it('lists the kinds of the example plugins once loaded, with their versions and the loader report', async () => {
    const root = resolve(import.meta.dirname, '../../..');
    const dirs = ['plugins/ct', 'plugins/mri', 'tests/fixtures/plugins/wrong-adjoint'].map((d) => resolve(root, d));
    await loadPlugins({ LAGRANGE_PLUGINS: dirs.join(delimiter) });
    const cat = nodeCatalog();
    const ct = cat.kinds.find((k) => k.kind === 'ParallelBeamCT');
    expect(ct).toMatchObject({ category: 'operator', plugin: { name: 'ct', version: '0.1.0' }, outputs: [{ name: 'operator', type: 'operator' }] });
    expect(Object.keys(ct!.params.properties ?? {}).length).toBeGreaterThan(0);
    expect(cat.kinds.find((k) => k.kind === 'CartesianMRI')?.plugin).toEqual({ name: 'mri', version: '0.1.0' });
    expect(cat.plugins.find((p) => p.name === 'ct')).toMatchObject({ status: 'loaded', kinds: ['ParallelBeamCT'] });
    const refused = cat.plugins.find((p) => p.status === 'refused');
    expect(refused?.reason).toMatch(/adjoint/);
  });

  it("lists the loader's records: kinds it registered, or why it was refused", () => {
    const registered = { operators: [{ id: 'ct-parallel', nodeKind: 'ParallelBeamCT' }], nodeKinds: ['FilteredBackprojection'] };
    expect(
      catalogPlugins([
        { name: 'ct', version: '0.1.0', folder: '/p/ct', source: 'env', status: 'loaded', registered, ms: 3 },
        { name: 'bad', folder: '/p/bad', source: 'home', status: 'refused', reason: "plugin 'bad': adjoint test failed", registered: { operators: [], nodeKinds: [] }, ms: 1 },
      ]),
    ).toEqual([
      { name: 'ct', version: '0.1.0', path: '/p/ct', status: 'loaded', kinds: ['ParallelBeamCT', 'FilteredBackprojection'] },
      { name: 'bad', path: '/p/bad', status: 'refused', reason: "plugin 'bad': adjoint test failed", kinds: [] },
    ]);
  });

  it('bounds what a plugin can put in: long docs and reasons are cut', () => {
    removals.push(addNodeKind(fixtureKind('FixtureLong', 'x'.repeat(50_000)), 'fixture'));
    const cat = nodeCatalog([{ name: 'broken', status: 'refused', reason: 'r'.repeat(10_000), kinds: [] }]);
    expect(cat.kinds.find((x) => x.kind === 'FixtureLong')!.doc).toHaveLength(CATALOG_LIMITS.text);
    expect(cat.kinds.find((x) => x.kind === 'FixtureLong')!.plugin).toEqual({ name: 'fixture', version: 'unknown' });
    expect(cat.plugins[0]!.reason).toHaveLength(CATALOG_LIMITS.text);
  });
});
