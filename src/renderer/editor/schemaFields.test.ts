import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { nodeKinds } from '../../nodes/index';
import type { CatalogParamSchema } from '../../protocol/catalog';
import { fieldSpec, fieldSpecs, parseFieldText, rangeText, schemaDefaults } from './schemaFields';

const json = (s: z.ZodType): CatalogParamSchema => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as CatalogParamSchema;

// A plugin's parameters as an operator node kind declares them (every key optional).
const ct = json(
  z
    .object({
      views: z.number().int().min(1).max(720).default(60).meta({ unit: 'views', description: 'projection angles' }),
      arc: z.number().gt(0).lte(360).default(180).meta({ unit: '°' }),
      filter: z.enum(['ramp', 'hann', 'none']).default('ramp'),
      detectorCount: z.number().int().positive().optional(),
      noisy: z.boolean().default(false),
      label: z.string().min(1).optional(),
      order: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(2),
      weights: z.array(z.number()).optional(),
      mode: z.union([z.number(), z.string()]).optional(),
    })
    .partial(),
);

describe('fieldSpecs', () => {
  it('maps each JSON Schema property to its control, with range, unit, enum and default', () => {
    const f = Object.fromEntries(fieldSpecs(ct).map((s) => [s.name, s]));
    expect(f.views).toEqual({ name: 'views', control: 'integer', minimum: 1, maximum: 720, unit: 'views', description: 'projection angles', default: 60, required: false });
    expect(f.arc).toMatchObject({ control: 'number', exclusiveMinimum: 0, maximum: 360, unit: '°', default: 180 });
    expect(f.filter).toMatchObject({ control: 'select', options: ['ramp', 'hann', 'none'], default: 'ramp' });
    expect(f.noisy).toMatchObject({ control: 'boolean', default: false });
    expect(f.label).toMatchObject({ control: 'string' });
    expect(f.order).toMatchObject({ control: 'select', options: [1, 2, 4], default: 2 });
    expect(f.weights!.control).toBe('json');
    expect(f.mode!.control).toBe('json');
    // positive() on an int: zod writes exclusiveMinimum 0 and the safe-integer bound, which is not shown.
    expect(f.detectorCount).toEqual({ name: 'detectorCount', control: 'integer', exclusiveMinimum: 0, required: false });
    expect(rangeText(f.detectorCount!)).toBe('> 0');
    expect(rangeText(f.arc!)).toBe('> 0, ≤ 360');
  });

  it('marks a required parameter without a default as required', () => {
    const s = json(z.object({ path: z.string().min(1), gain: z.number().default(1) }));
    expect(fieldSpecs(s).map((f) => [f.name, f.required])).toEqual([
      ['path', true],
      ['gain', false],
    ]);
  });

  it("gives every built-in kind's defaults back as the engine parses them", () => {
    for (const k of nodeKinds()) {
      const parsed = k.params.safeParse({});
      if (parsed.success) expect(schemaDefaults(json(k.params)), k.kind).toEqual(parsed.data);
    }
  });

  it('uses a text or select control for every built-in parameter but the structured ones', () => {
    const jsonFields = nodeKinds().flatMap((k) =>
      fieldSpecs(json(k.params))
        .filter((f) => f.control === 'json')
        .map((f) => `${k.kind}.${f.name}`),
    );
    expect(jsonFields).toEqual(['ScoreModel.components']);
  });
});

describe('parseFieldText', () => {
  const views = fieldSpec('views', { type: 'integer', minimum: 1, maximum: 720 });
  it('parses numbers in range and refuses others with the reason', () => {
    expect(parseFieldText(views, '90')).toBe(90);
    expect(() => parseFieldText(views, '0')).toThrow('must be ≥ 1');
    expect(() => parseFieldText(views, '1.5')).toThrow('whole number');
    expect(() => parseFieldText(views, 'abc')).toThrow('not a number');
    expect(() => parseFieldText(fieldSpec('p', { type: 'number', exclusiveMaximum: 1 }), '1')).toThrow('must be < 1');
  });
  it('treats an empty field as unset, and JSON fields as JSON', () => {
    expect(parseFieldText(views, '  ')).toBeUndefined();
    const w = fieldSpec('w', { type: 'array', items: { type: 'number' } });
    expect(parseFieldText(w, '[1, 2]')).toEqual([1, 2]);
    expect(() => parseFieldText(w, '[1,')).toThrow('not valid JSON');
    expect(parseFieldText(fieldSpec('s', { type: 'string' }), 'abc')).toBe('abc');
  });
});
