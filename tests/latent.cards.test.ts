/**
 * The bundled latent model (resources/models/fmnist-latent-8): its three cards fit together,
 * `lagrange models check` passes on it (references of all three networks, the decoder VJP against
 * central differences), and copies with a wrong id, a swapped network or a wrong latent shape are
 * refused naming the file and both values.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModel } from '../src/engine/priors/check';
import { latentFolderProblems, readLatentFolder } from '../src/engine/priors/latentCard';
import { loadLatentPrior } from '../src/engine/priors/latentPrior';
import { cli } from './helpers/cli';

const ROOT = new URL('..', import.meta.url).pathname;
const LATENT = join(ROOT, 'resources/models/fmnist-latent-8');
const PIXEL = join(ROOT, 'resources/models/fmnist-32');
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-latent-cards-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the bundled folder with `edit` applied to one of its JSON cards. */
function copyWith(name: string, file: string, edit: (card: Record<string, unknown>) => void): string {
  const dir = join(tmp, name);
  cpSync(LATENT, dir, { recursive: true });
  const card = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  edit(card);
  writeFileSync(join(dir, file), JSON.stringify(card));
  return dir;
}

describe('latent model cards', () => {
  it('reads the bundled folder: one autoencoder, latent 4×8×8 behind 1×32×32 images, nothing amiss', () => {
    const f = readLatentFolder(LATENT);
    expect(f.prior.latentShape).toEqual([4, 8, 8]);
    expect(f.encoder.autoencoder).toBe(f.prior.block.autoencoder.id);
    expect(f.decoder.autoencoder).toBe(f.prior.block.autoencoder.id);
    expect([f.decoder.image.channels, f.decoder.image.height, f.decoder.image.width]).toEqual([1, 32, 32]);
    expect(f.prior.block.scaleFactor).toBe(f.decoder.scaleFactor);
    expect(latentFolderProblems(f)).toEqual([]);
  });

  it('passes models check: the prior, both halves against PyTorch, and the decoder VJP', async () => {
    const r = await checkModel(LATENT, { providers: ['cpu'] });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.reference!.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent!.reference.encoder!.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent!.reference.decoder!.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent!.gradcheck!.worst).toBeLessThan(1e-3);
    const c = await cli('models', 'check', 'fmnist-latent-8', '--provider', 'cpu');
    expect(c.code).toBe(0);
    expect(c.out.join('\n')).toMatch(/latent +autoencoder fmnist-latent-8-kl-f4-c4: image 1×32×32 ↔ latent 4×8×8/);
    expect(c.out.join('\n')).toMatch(/decoder VJP vs central differences: worst relative error/);
  }, 120_000);

  it('refuses a decoder of another autoencoder, naming the file and both ids', async () => {
    const dir = copyWith('other-id', 'decoder.json', (c) => (c.autoencoder = 'someone-else'));
    const problems = latentFolderProblems(readLatentFolder(dir));
    expect(problems).toEqual([`${join(dir, 'decoder.json')}: autoencoder 'someone-else', but ${join(dir, 'model.json')} belongs to autoencoder 'fmnist-latent-8-kl-f4-c4'`]);
    await expect(loadLatentPrior(dir)).rejects.toThrow(/autoencoder 'someone-else'/);
    const c = await cli('models', 'check', dir, '--provider', 'cpu');
    expect(c.code).not.toBe(0);
  }, 60_000);

  it('refuses a swapped network file by its hash, and a latent shape the prior does not take', () => {
    const swapped = join(tmp, 'swapped');
    cpSync(LATENT, swapped, { recursive: true });
    copyFileSync(join(PIXEL, 'model.onnx'), join(swapped, 'encoder.onnx'));
    expect(latentFolderProblems(readLatentFolder(swapped)).join('\n')).toMatch(
      /encoder\.onnx: SHA-256 [0-9a-f]{12}…, but .*sha256\.encoder records [0-9a-f]{12}… \(a different encoder\)/,
    );
    const shape = copyWith('shape', 'encoder.json', (c) => (c.latent = { channels: 2, height: 8, width: 8 }));
    expect(latentFolderProblems(readLatentFolder(shape))).toEqual([
      `${join(shape, 'encoder.json')}: latent 2×8×8, but the prior in ${join(shape, 'model.json')} takes latents of 4×8×8 (its image field)`,
    ]);
  });

  it('refuses a pixel prior as a latent one, and a card of the wrong role', () => {
    expect(() => readLatentFolder(PIXEL)).toThrow(/no 'latent' block: fmnist-32 is a pixel prior/);
    const dir = copyWith('role', 'decoder.json', (c) => (c.role = 'encoder'));
    expect(() => readLatentFolder(dir)).toThrow(`${join(dir, 'decoder.json')}: role is 'encoder', expected 'decoder'`);
  });

  it('loads the latent prior over 4×8×8 latents with its latent block', async () => {
    const prior = await loadLatentPrior(LATENT, { providers: ['cpu'] });
    try {
      expect(prior.shape).toEqual([4, 8, 8]);
      expect(prior.latent.image).toEqual({ channels: 1, height: 32, width: 32, range: [-1, 1] });
      expect(typeof prior.denoiseVjp).toBe('function');
    } finally {
      await prior.release();
    }
  });
});
