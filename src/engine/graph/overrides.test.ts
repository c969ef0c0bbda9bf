import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { editLayer, matchingReference, mergedParams, paramOrigin, referenceValue, writeParam } from '../../protocol/params';
import { compile } from '../compile/compile';
import { withMeasurement, withPrior, withValues } from './edit';
import { parseGraph } from './format';
import type { GraphDocument } from './format';
import { presetFile } from './presets';
import { checkSet, parseSetFlags, SetError } from './set';
import { validateGraph } from './validate';

const preset = (name: string): GraphDocument => parseGraph(JSON.parse(readFileSync(presetFile(name)!, 'utf8')));
/** DDiff on a small analytic problem, so compiling is instant. */
const small = (task: string): GraphDocument => withPrior(withMeasurement(preset('ddiff'), { kind: 'simulate', task, image: 'sample:camera', size: 16 }), 'gaussian', false);

describe('parameter layers', () => {
  it('resolves node → task → profile → set, and names the layer that supplies each value', () => {
    const doc = preset('daps');
    const gamma = (task: string) => paramOrigin(doc, { task }, 'mcmc', 'lr');
    expect(gamma('inpaint-box')).toEqual({ layer: 'task:inpaint-box', value: 5e-5 });
    expect(paramOrigin(doc, { task: 'hdr', profile: '4k' }, 'ode', 'steps').layer).toBe('profile:4k');
    expect(paramOrigin(doc, { task: 'hdr' }, 'ode', 'steps')).toEqual({ layer: 'base', value: 5 });
    expect(paramOrigin(doc, { task: 'hdr', set: { ode: { steps: 3 } } }, 'ode', 'steps')).toEqual({ layer: 'set', value: 3 });
    expect(paramOrigin(doc, {}, 'mcmc', 'nothing')).toEqual({ value: undefined });
    expect(mergedParams(doc, { task: 'hdr', profile: '4k' }).ode).toMatchObject({ steps: paramOrigin(doc, { profile: '4k' }, 'ode', 'steps').value });
  });

  it('an edit under a task lands in that task’s override when it has one, else on the node', () => {
    const doc = preset('ddiff');
    expect(editLayer(doc, { task: 'inpaint-box' }, 'x', 'gamma0')).toBe('task:inpaint-box');
    expect(editLayer(doc, { task: 'inpaint-box' }, 'x', 'tGamma')).toBe('base');
    writeParam(doc, 'task:inpaint-box', 'x', 'gamma0', 3000);
    expect(paramOrigin(doc, { task: 'inpaint-box' }, 'x', 'gamma0').value).toBe(3000);
    expect(paramOrigin(doc, { task: 'deblur-gauss' }, 'x', 'gamma0').value).toBe(2.9); // other tasks keep theirs
    // Removing a task's value falls back to the node's own and drops the empty table.
    writeParam(doc, 'task:inpaint-box', 'x', 'gamma0', undefined);
    expect(paramOrigin(doc, { task: 'inpaint-box' }, 'x', 'gamma0')).toEqual({ layer: 'base', value: 30 });
  });

  it('compares the running value with the preset’s paper reference', () => {
    const doc = preset('ddiff');
    expect(referenceValue(doc, 'paper', { task: 'deblur-gauss' }, 'noise', 't0')).toBe(50);
    expect(referenceValue(doc, 'paper', { task: 'deblur-gauss' }, 'x', 'tGamma')).toBe(90); // from the paper's base
    const v = paramOrigin(doc, { task: 'sr4' }, 'x', 'gamma0').value;
    expect(matchingReference(doc, { task: 'sr4' }, 'x', 'gamma0', v)).toBeDefined();
    expect(matchingReference(doc, { task: 'sr4' }, 'x', 'gamma0', 12345)).toBeUndefined();
  });
});

describe('what runs is what the layers say', () => {
  it('a task override edit changes the compiled step, and effectiveParams records it', async () => {
    const doc = small('inpaint-box');
    const stock = await compile(doc, { iterations: 2 });
    const edited = structuredClone(doc);
    writeParam(edited, editLayer(edited, { task: 'inpaint-box' }, 'x', 'gamma0'), 'x', 'gamma0', 0.001);
    const plan = await compile(edited, { iterations: 2 });
    expect(plan.body.find((b) => b.id === 'x')!.params.gamma0).toBe(0.001);
    expect(plan.effectiveParams.x!.gamma0).toBe(0.001);
    expect(stock.effectiveParams.x!.gamma0).not.toBe(0.001);
    expect(plan.hash).not.toBe(stock.hash);
  });

  it('--set wins over task and profile overrides, reaches static nodes, and a saved graph reproduces it', async () => {
    const doc = small('inpaint-box');
    const set = parseSetFlags(['x.gamma0=0.5', 'noise.t0=7', 'measure.sigma=0.1']);
    const plan = await compile(doc, { iterations: 2, set });
    expect(plan.effectiveParams.x!.gamma0).toBe(0.5);
    expect(plan.effectiveParams.noise!.t0).toBe(7);
    expect(plan.measurement.sigmaY).toBe(0.1);
    const saved = withValues(doc, set, { task: 'inpaint-box' });
    expect(saved.overrides['task:inpaint-box']!.x!.gamma0).toBe(0.5); // where it took effect
    const again = await compile(saved, { iterations: 2 });
    expect(again.effectiveParams).toEqual(plan.effectiveParams);
    expect(again.hash).toBe(plan.hash);
  });

  it('the hash ignores the reference values, which never run', async () => {
    const doc = small('inpaint-box');
    const a = await compile(doc, { iterations: 2 });
    const b = await compile({ ...doc, reference: undefined }, { iterations: 2 });
    expect(b.hash).toBe(a.hash);
  });
});

describe('bad per-run values and overrides are refused with what exists', () => {
  const doc = preset('ddiff');
  it.each([
    [['x.gama=3'], /node "x" \(XUpdate\) has no parameter 'gama'; parameters: mode, gamma0/],
    [['y.gamma0=3'], /has no node "y"; nodes: image, A/],
    [['x.gamma0=-3'], /parameter 'gamma0' must be a number > 0/],
    [['x.mode=newton'], /must be one of gradient, prox/],
    [['noise.zeta=2'], /must be a number ≥ 0, ≤ 1/],
    [['x.gamma0'], /expected <node>\.<param>=<value>/],
  ])('%s', (flags, message) => {
    expect(() => checkSet(doc, parseSetFlags(flags))).toThrow(SetError);
    expect(() => checkSet(doc, parseSetFlags(flags))).toThrow(message);
  });

  it('an override naming no node, an unknown parameter or a bad value is a validation error', () => {
    const bad = structuredClone(doc);
    bad.overrides['task:hdr'] = { ghost: { gamma0: 1 }, x: { gama: 1, gamma0: -1 } };
    const { ok, errors } = validateGraph(bad);
    expect(ok).toBe(false);
    const text = errors.map((e) => `${e.path}: ${e.message}`).join('\n');
    expect(text).toMatch(/overrides\.task:hdr\.ghost: overrides "task:hdr": no node "ghost"/);
    expect(text).toMatch(/overrides\.task:hdr\.x\.gama: .*has no parameter 'gama'/);
    expect(text).toMatch(/overrides\.task:hdr\.x\.gamma0: .*must be a number > 0, got -1/);
  });

  it('a misspelt node parameter is an error, not silently dropped', () => {
    const bad = structuredClone(doc);
    bad.nodes.find((n) => n.id === 'schedule')!.params.iteration = 5;
    const { errors } = validateGraph(bad);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/node "schedule" \(Schedule\) has no parameter 'iteration'; parameters: iterations/);
  });

  it('every shipped preset validates under the stricter checks', () => {
    for (const name of ['ddiff', 'ddiff-hqs', 'diff-pnp-admm', 'diff-pnp-hqs', 'diffpir', 'dps', 'daps']) expect(validateGraph(preset(name)).errors, name).toEqual([]);
  });
});
