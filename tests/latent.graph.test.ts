/**
 * Latent graphs through the compiler: States and the shape-agnostic steps take the space of what
 * is wired to them (a latent State has the autoencoder's latent shape), LatentScoreModel is a
 * prior over latents, Decoders read only by sinks are taps, and a latent reaching an image-only port is refused naming the node, the
 * port and both shapes — by the validator (types) and by compile (shapes from the cards).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import type { GraphDocument } from '../src/engine/graph/format';
import { parseGraph } from '../src/engine/graph/format';
import { validateGraph } from '../src/engine/graph/validate';
import { executors } from '../src/engine/runtime/executors';
import type { StepContext } from '../src/engine/runtime/executors';
import { runPlan } from '../src/engine/runtime/run';

const FILE = join(new URL('..', import.meta.url).pathname, 'resources/presets/latent-ddiff.lagrange.json');
const preset = (): GraphDocument => parseGraph(JSON.parse(readFileSync(FILE, 'utf8')), FILE);

/** The preset with `edit` applied to a copy. */
function edited(edit: (g: GraphDocument) => void): GraphDocument {
  const g = structuredClone(preset());
  edit(g);
  return g;
}

describe('latent graphs', () => {
  it('compile with latent registers of the autoencoder’s shape and the latent prior as a resource', async () => {
    const plan = await compile(preset(), { iterations: 3 });
    expect(plan.states.map((s) => [s.id, s.space, s.shape])).toEqual([
      ['zt', 'latent', [4, 8, 8]],
      ['u', 'latent', [4, 8, 8]],
    ]);
    expect(plan.prior.shape).toEqual([4, 8, 8]);
    expect(plan.imageShape).toEqual([1, 32, 32]);
    expect(plan.body.map((s) => [s.id, s.space ?? 'image'])).toEqual([
      ['z', 'latent'],
      ['x', 'image'], // LatentXUpdate's ports are typed latent by its declaration
      ['noise', 'latent'],
      ['dual', 'latent'],
    ]);
    // The Decoders only sinks read are taps: decoded when a sink shows them, not every iteration.
    expect(plan.taps.map((s) => s.id)).toEqual(['decode-zt', 'decode-z', 'decode']);
  }, 30_000);

  it('decode for the frames sinks show only, with the previews of the decoded states', async () => {
    const plan = await compile(preset(), { iterations: 3 });
    let decodes = 0;
    const table = { ...executors, Decoder: (ctx: StepContext) => (decodes++, executors.Decoder!(ctx)) };
    const frames: string[] = [];
    const run = await runPlan(plan, {
      throttleMs: 0,
      backend: { step: { form: 'node', executors: table }, summary: '' },
      onEvent: (e) => void (e.type === 'preview' && frames.push(`${e.nodeId}@${e.iteration}`)),
    });
    expect(run.result!.shape).toEqual([1, 1, 32, 32]);
    // Previews every 50 iterations: frames at k = 0 and the last; three Decoders each time, not nine in all.
    expect(frames.sort()).toEqual(['preview-xt@0', 'preview-xt@2', 'preview-z@0', 'preview-z@2', 'preview@0', 'preview@2']);
    expect(decodes).toBe(6);
  }, 30_000);

  it('encode before the loop: a latent State starts from the encoded image', async () => {
    const g = edited((d) => {
      d.nodes.push({ id: 'enc', kind: 'Encoder', params: {}, position: { x: 0, y: 0 } });
      d.nodes.find((n) => n.id === 'zt')!.params.init = 'input';
      d.edges.push({ source: 'image', sourcePort: 'image', target: 'enc', targetPort: 'image' }, { source: 'enc', sourcePort: 'z', target: 'zt', targetPort: 'init' });
    });
    const plan = await compile(g, { iterations: 2 });
    const z = plan.constants.get('enc.z') as { shape: number[]; data: Float32Array };
    expect(z.shape).toEqual([1, 4, 8, 8]);
    expect(plan.states.find((s) => s.id === 'zt')).toMatchObject({ init: 'input', initFrom: { node: 'enc', port: 'z' }, shape: [4, 8, 8] });
    let seen: Float32Array | undefined;
    const table = { ...executors, Denoise: (ctx: StepContext) => ((seen ??= Float32Array.from((ctx.input('xt') as { data: Float32Array }).data)), executors.Denoise!(ctx)) };
    await runPlan(plan, { throttleMs: Infinity, stopAt: 1, backend: { step: { form: 'node', executors: table }, summary: '' } });
    expect(Array.from(seen!)).toEqual(Array.from(z.data)); // the first z-update denoises E(x)
  }, 30_000);

  it('refuse a latent State wired into an image port, with the node, the port and both shapes', async () => {
    const g = edited((d) => d.edges.push({ source: 'zt', sourcePort: 'current', target: 'preview', targetPort: 'image' }));
    g.edges = g.edges.filter((e) => !(e.target === 'preview' && e.source === 'decode'));
    const v = validateGraph(g);
    expect(v.ok).toBe(false);
    await expect(compile(g, { iterations: 2 })).rejects.toThrow(
      `node "zt" (State) output 'current' is a latent of 4×8×8 (autoencoder fmnist-latent-8-kl-f4-c4) but node "preview" (Preview) input 'image' expects an image of 1×32×32; decode it first (Decoder)`,
    );
  });

  it('refuse an image into a step already in latent space, and a latent prior in an image-only step', () => {
    const mixed = edited((d) => {
      d.edges = d.edges.filter((e) => !(e.target === 'dual' && e.targetPort === 'z'));
      d.edges.push({ source: 'image', sourcePort: 'image', target: 'dual', targetPort: 'z' });
    });
    const msgs = validateGraph(mixed).errors.map((e) => e.message);
    expect(msgs.some((m) => m.includes(`node "dual" (DualUpdate) input 'z'`) && m.includes('a latent') && m.includes('an image'))).toBe(true);

    const dps = edited((d) => {
      d.nodes.push({ id: 'guide', kind: 'DPSGuidance', params: {}, position: { x: 0, y: 0 } });
      for (const [s, sp, t] of [
        ['image', 'image', 'xt'],
        ['image', 'image', 'x0'],
        ['image', 'image', 'next'],
        ['measure', 'measurement', 'measurement'],
        ['prior', 'prior', 'prior'],
        ['schedule', 'schedule', 'schedule'],
      ] as const)
        d.edges.push({ source: s, sourcePort: sp, target: 'guide', targetPort: t });
    });
    expect(validateGraph(dps).errors.map((e) => e.message)).toContainEqual(
      expect.stringContaining(`is a prior over latents but node "guide" (DPSGuidance) input 'prior' works on images only`),
    );
  });

  it('refuse init "adjoint" on a latent State', async () => {
    const g = edited((d) => {
      d.nodes.find((n) => n.id === 'u')!.params.init = 'adjoint';
      d.edges.push({ source: 'measure', sourcePort: 'measurement', target: 'u', targetPort: 'measurement' });
    });
    await expect(compile(g, { iterations: 2 })).rejects.toThrow(`node "u" (State) holds a latent, but init "adjoint" gives the image Aᵀy`);
  });
});
