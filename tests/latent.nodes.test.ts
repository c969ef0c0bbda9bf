/**
 * The Encoder, Decoder and LatentScoreModel node kinds on the bundled latent model: typed ports
 * keep latents and images apart (refused with node, port and both shapes), nodes from different
 * autoencoders are refused, and the executors encode, decode and backpropagate through the
 * decoder (its VJP against a central difference of ⟨v, D(z)⟩).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeKind } from '../src/nodes/index';
import { latentGraphProblems } from '../src/engine/compile/latentChecks';
import type { GraphDocument } from '../src/engine/graph/format';
import { validateGraph } from '../src/engine/graph/validate';
import { loadImage } from '../src/engine/io/prepare';
import { executors } from '../src/engine/runtime/executors';
import type { StepContext } from '../src/engine/runtime/executors';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const LATENT = join(ROOT, 'resources/models/fmnist-latent-8');
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-latent-nodes-'));
afterAll(async () => {
  await releaseLatentNets();
  rmSync(tmp, { recursive: true, force: true });
});

const doc = (nodes: GraphDocument['nodes'], edges: GraphDocument['edges']): GraphDocument =>
  ({ format: 'lagrange-graph', version: 1, name: 'latent-test', description: '', nodes, edges, run: { seed: 0 }, models: {}, overrides: {} }) as GraphDocument;

/** An executor call for node `id` of `kind` at iteration 0 with the given inputs. */
async function execute(kind: string, inputs: Record<string, Tensor>, params: Record<string, unknown> = {}): Promise<Record<string, Tensor>> {
  const ctx: StepContext = {
    k: 0,
    node: kind.toLowerCase(),
    params: nodeKind(kind)!.params.parse(params),
    input: (p) => inputs[p],
    rng: () => createRng(0, 'test'),
    warn: () => {},
  };
  return executors[kind]!(ctx);
}

async function heldout(n: number): Promise<Tensor> {
  const x = tensor([n, 1, 32, 32]);
  for (let i = 0; i < n; i++) x.data.set((await loadImage(join(LATENT, 'heldout', `${String(3 * i).padStart(2, '0')}.png`), 32, 1)).data, i * 1024);
  return x;
}

const psnr = (a: Tensor, b: Tensor): number => {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i]! - b.data[i]!) ** 2;
  return 10 * Math.log10(4 / (se / a.data.length));
};

describe('latent node kinds', () => {
  it('declare latent and image ports apart', () => {
    expect(nodeKind('Encoder')!.outputs.map((p) => [p.name, p.type])).toEqual([['z', 'latent']]);
    expect(nodeKind('Decoder')!.inputs.map((p) => [p.name, p.type])).toEqual([
      ['z', 'latent'],
      ['cotangent', 'image'],
    ]);
    expect(nodeKind('LatentScoreModel')!.outputs[0]!.type).toBe('prior');
    expect(nodeKind('Decoder')!.params.parse({})).toMatchObject({ source: 'bundled', model: 'fmnist-latent-8' });
  });

  it('refuse a latent wired into an image port, naming the node, the port and both shapes', () => {
    const g = doc(
      [
        { id: 'img', kind: 'ImageInput', params: { source: 'sample:0' } },
        { id: 'enc', kind: 'Encoder', params: {} },
        { id: 'pv', kind: 'Preview', params: {} },
      ],
      [
        { source: 'img', sourcePort: 'image', target: 'enc', targetPort: 'image' },
        { source: 'enc', sourcePort: 'z', target: 'pv', targetPort: 'image' },
      ],
    );
    const v = validateGraph(g);
    expect(v.errors.map((e) => e.message)).toContain(`node "enc" (Encoder) output 'z' is latent but node "pv" (Preview) input 'image' expects image`);
    expect(latentGraphProblems(g)).toEqual([
      {
        nodeId: 'pv',
        path: 'edges[1]',
        message: `edges[1]: node "enc" (Encoder) output 'z' is a latent of 4×8×8 (autoencoder fmnist-latent-8-kl-f4-c4) but node "pv" (Preview) input 'image' expects an image of 1×32×32; decode it first (Decoder)`,
      },
    ]);
  });

  it('refuse nodes of different autoencoders, and a decoder that does not fit the operator', () => {
    const other = join(tmp, 'other');
    cpSync(LATENT, other, { recursive: true });
    const card = JSON.parse(readFileSync(join(other, 'decoder.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(other, 'decoder.json'), JSON.stringify({ ...card, autoencoder: 'another-vae' }));
    const g = doc(
      [
        { id: 'prior', kind: 'LatentScoreModel', params: {} },
        { id: 'dec', kind: 'Decoder', params: { source: 'onnx', model: other } },
      ],
      [],
    );
    const issues = latentGraphProblems(g, [1, 64, 64]);
    expect(issues.map((i) => i.nodeId)).toEqual(['dec', 'dec']);
    expect(issues[0]!.message).toMatch(/^node "dec" \(Decoder\) uses autoencoder 'another-vae' \(.*other\), but node "prior" \(LatentScoreModel\) uses 'fmnist-latent-8-kl-f4-c4'/);
    expect(issues[1]!.message).toBe(`node "dec" (Decoder) output 'image' is 1×32×32 (autoencoder another-vae), but the measurement operator takes images of 1×64×64`);
  });

  it('encode to unit-scale latents and decode back to the held-out images', async () => {
    const x = await heldout(8);
    const { z } = await execute('Encoder', { image: x });
    expect(z!.shape).toEqual([8, 4, 8, 8]);
    // The scale factor makes the training latents unit variance; held-out ones are close.
    const mean = z!.data.reduce((s, v) => s + v, 0) / z!.data.length;
    const std = Math.sqrt(z!.data.reduce((s, v) => s + (v - mean) ** 2, 0) / z!.data.length);
    expect(std).toBeGreaterThan(0.6);
    expect(std).toBeLessThan(1.5);
    const { image } = await execute('Decoder', { z: z! });
    expect(image!.shape).toEqual([8, 1, 32, 32]);
    expect(psnr(image!, x)).toBeGreaterThan(20);
  }, 60_000);

  it('give the decoder VJP: ⟨grad, u⟩ matches the central difference of ⟨v, D(z)⟩', async () => {
    const rng = createRng(3, 'vjp');
    const z = tensor([2, 4, 8, 8]),
      u = tensor([2, 4, 8, 8]),
      v = tensor([2, 1, 32, 32]);
    for (const t of [z, u, v]) rng.fillNormal(t.data);
    const { image, grad } = await execute('Decoder', { z, cotangent: v });
    expect(grad!.shape).toEqual([2, 4, 8, 8]);
    const phi = async (h: number): Promise<number> => {
      const { image: d } = await execute('Decoder', {
        z: tensor(
          z.shape,
          Float32Array.from(z.data, (a, i) => a + h * u.data[i]!),
        ),
      });
      return d!.data.reduce((s, a, i) => s + a * v.data[i]!, 0);
    };
    const h = 1e-2;
    const fd = ((4 * ((await phi(h / 2)) - (await phi(-h / 2)))) / h - ((await phi(h)) - (await phi(-h))) / (2 * h)) / 3;
    const dot = grad!.data.reduce((s, g, i) => s + g * u.data[i]!, 0);
    expect(Math.abs(dot - fd) / Math.abs(fd)).toBeLessThan(1e-2);
    expect(image!.shape).toEqual([2, 1, 32, 32]);
  }, 60_000);
});
