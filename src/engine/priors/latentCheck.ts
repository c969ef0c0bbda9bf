/**
 * `models check` for a latent model folder, beyond what the prior's own check does: the three
 * cards fit together (autoencoder ids, hashes, shapes, scale factors), the encoder and decoder
 * answer in their cards' shapes and agree with the exporting framework on `check/encoder_x.npy →
 * encoder_z.npy` and `check/decoder_z.npy → decoder_x.npy` (raw, unscaled latents), and the
 * derived decoder VJP matches central differences.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gradcheck } from '../onnx/autodiff/gradcheck';
import { readNpy } from '../io/npy';
import type { Tensor } from '../tensor/tensor';
import { shapeStr, tensor } from '../tensor/tensor';
import type { AutoencoderNet } from './autoencoder';
import { loadAutoencoderNet } from './autoencoder';
import { ioNames, latentFolderProblems, readLatentFolder } from './latentCard';

/** Worst relative error accepted from the decoder's VJP against central differences (float32 networks). */
export const DECODER_GRADCHECK_TOLERANCE = 1e-3;
/** Reference errors above this mean the export is wrong, not float32 round-off. */
export const LATENT_REFERENCE_TOLERANCE = 1e-3;

/** The report of {@link checkLatentFolder}. */
export interface LatentCheck {
  ok: boolean;
  autoencoder: string;
  scaleFactor: number;
  /** Per-sample shapes. */
  imageShape: number[];
  latentShape: number[];
  /** Max |ONNX − reference| per half, when `check/` holds its files. */
  reference: { encoder?: { count: number; maxAbsError: number }; decoder?: { count: number; maxAbsError: number } };
  /** The decoder VJP against central differences, with respect to the latent. */
  gradcheck?: { probes: number; worst: number };
  problems: string[];
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** max |net(s·in) − out| on raw latents: the encoder's output is divided by s, the decoder's input multiplied. */
async function compareReference(net: AutoencoderNet, inFile: string, outFile: string): Promise<{ count: number; maxAbsError: number }> {
  const input = readNpy(inFile),
    want = readNpy(outFile);
  const s = net.scaleFactor;
  const fed: Tensor =
    net.role === 'decoder'
      ? tensor(
          input.shape,
          Float32Array.from(input.data, (v) => v * s),
        )
      : input;
  const got = await net.run(fed);
  if (shapeStr(got.shape) !== shapeStr(want.shape)) throw new Error(`${outFile}: shape ${shapeStr(want.shape)}, the ${net.role} gives ${shapeStr(got.shape)} for ${inFile}`);
  let maxAbsError = 0;
  for (let i = 0; i < want.data.length; i++) {
    const g = net.role === 'encoder' ? got.data[i]! / s : got.data[i]!;
    const d = Math.abs(g - want.data[i]!);
    maxAbsError = Math.max(maxAbsError, Number.isNaN(d) ? Infinity : d);
  }
  return { count: want.shape[0] ?? 0, maxAbsError };
}

/**
 * Checks the latent model folder `dir` (its `model.json` has a `latent` block). Every failure sets
 * `ok: false` with a message naming the file concerned.
 * @param opts.probes - random probes of the decoder gradcheck (default 3)
 */
export async function checkLatentFolder(dir: string, opts: { probes?: number } = {}): Promise<LatentCheck> {
  const folder = readLatentFolder(dir);
  const { block } = folder.prior;
  const report: LatentCheck = {
    ok: true,
    autoencoder: block.autoencoder.id,
    scaleFactor: block.scaleFactor,
    imageShape: [block.image.channels, block.image.height, block.image.width],
    latentShape: [...folder.prior.latentShape],
    reference: {},
    problems: latentFolderProblems(folder),
  };
  const ref = join(dir, 'check');
  for (const role of ['encoder', 'decoder'] as const) {
    const [a, b] = role === 'encoder' ? ['encoder_x', 'encoder_z'] : ['decoder_z', 'decoder_x'];
    let net: AutoencoderNet | undefined;
    try {
      net = await loadAutoencoderNet(dir, role, { providers: ['cpu'] });
      const inFile = join(ref, `${a}.npy`),
        outFile = join(ref, `${b}.npy`);
      if (existsSync(inFile) && existsSync(outFile)) {
        const r = await compareReference(net, inFile, outFile);
        report.reference[role] = r;
        if (!(r.maxAbsError <= LATENT_REFERENCE_TOLERANCE))
          report.problems.push(`${outFile}: the ${role} ONNX model differs from the reference outputs by ${r.maxAbsError.toPrecision(3)} (> ${LATENT_REFERENCE_TOLERANCE})`);
      } else {
        // Without references, one forward still shows that the network answers in the card's shape.
        await net.run(tensor([1, ...(role === 'encoder' ? net.imageShape : net.latentShape)]));
      }
    } catch (e) {
      report.problems.push(reasonOf(e));
    } finally {
      await net?.release();
    }
  }
  try {
    const card = folder.decoder;
    const file = join(dir, card.files.model);
    const g = await gradcheck(readFileSync(file), { file, wrt: [ioNames(card).input], probes: opts.probes ?? 3, seed: 0 });
    report.gradcheck = { probes: g.probes.length, worst: g.worst };
    if (!(g.worst <= DECODER_GRADCHECK_TOLERANCE))
      report.problems.push(`${file}: the derived decoder VJP is ${g.worst.toExponential(2)} away from central differences (> ${DECODER_GRADCHECK_TOLERANCE})`);
  } catch (e) {
    report.problems.push(`decoder VJP: ${reasonOf(e)}`);
  }
  report.ok = report.problems.length === 0;
  return report;
}
