/**
 * The two halves of a latent model's autoencoder as engine functions on the prior's latent space
 * (scaled latents s·z, s the cards' scale factor): the encoder x ↦ s·E(x), the decoder
 * z ↦ D(z/s), and the decoder's exact VJP (∂D(z/s)/∂z)ᵀ v = J_D(z/s)ᵀ v / s by reverse mode
 * through its ONNX graph (`onnx/autodiff`), derived at the first call. Shapes are checked
 * against the card on every call, naming the card's file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { vjpModel } from '../onnx/autodiff/vjp';
import type { Shape, Tensor } from '../tensor/tensor';
import { batchOf, shapeStr, tensor } from '../tensor/tensor';
import type { AutoencoderCard } from './latentCard';
import { ioNames, readAutoencoderCard, readLatentFolder, shapeOfDims } from './latentCard';
import type { ExecutionProvider } from './onnxPrior';
import { ModelError, openSession, PROVIDER_ORDER } from './onnxPrior';

/** One half of an autoencoder, on the prior's (scaled) latents. */
export interface AutoencoderNet {
  readonly role: AutoencoderCard['role'];
  /** The autoencoder both halves and the prior name. */
  readonly autoencoder: string;
  readonly card: AutoencoderCard;
  readonly file: string;
  /** Per-sample shapes C×H×W. */
  readonly imageShape: Shape;
  readonly latentShape: Shape;
  readonly scaleFactor: number;
  /** Where it runs: `onnx:cpu`, `onnx:cuda`, … */
  readonly provider: string;
  /** Encoder: image N×C×H×W → s·E(x); decoder: latent → D(z/s). */
  run(input: Tensor): Promise<Tensor>;
  /** Decoder only: (∂D(z/s)/∂z)ᵀ v for a cotangent v of the image's shape. */
  vjp?(z: Tensor, v: Tensor): Promise<Tensor>;
  release(): Promise<void>;
}

/** Options of {@link loadAutoencoderNet}. */
export interface LoadAutoencoderOptions {
  providers?: readonly ExecutionProvider[];
  /** The card file, when it is not the latent folder's (default: the one model.json's latent block names). */
  cardFile?: string;
}

const f32 = (t: Tensor, dims: readonly number[]): ort.Tensor => new ort.Tensor('float32', t.data, [...dims]);

/**
 * Opens the encoder or decoder of the latent model folder `dir` (a folder whose `model.json`
 * carries a `latent` block), or of the card `opts.cardFile`.
 * @throws ModelError naming the file when the card, the ONNX file or its tensor names do not fit
 */
export async function loadAutoencoderNet(dir: string, role: AutoencoderCard['role'], opts: LoadAutoencoderOptions = {}): Promise<AutoencoderNet> {
  const cardFile = opts.cardFile ?? join(dir, readLatentFolder(dir).prior.block.autoencoder[role]);
  const card = readAutoencoderCard(cardFile, role);
  const file = join(dir, card.files.model);
  const { input, output } = ioNames(card);
  const { session, provider } = await openSession(file, opts.providers ?? PROVIDER_ORDER);
  if (!session.inputNames.includes(input) || !session.outputNames.includes(output)) {
    await session.release();
    throw new ModelError(
      `${cardFile}: ${file} needs input '${input}' and output '${output}' (it has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`,
    );
  }
  const imageShape = shapeOfDims(card.image),
    latentShape = shapeOfDims(card.latent);
  const [inShape, outShape] = role === 'encoder' ? [imageShape, latentShape] : [latentShape, imageShape];
  const s = card.scaleFactor;
  const who = `${role} of autoencoder ${card.autoencoder} (${file})`;

  const forward = async (x: Tensor): Promise<Tensor> => {
    const n = batchOf(x, inShape, who, role === 'encoder' ? 'image' : 'latent');
    // The network's raw latents are z = latent / s (decoder input) and E(x) = s·latent (encoder output).
    const fed =
      role === 'decoder'
        ? tensor(
            x.shape,
            Float32Array.from(x.data, (v) => v / s),
          )
        : x;
    const res = await session.run({ [input]: f32(fed, [n, ...inShape]) });
    const y = res[output]!;
    if (shapeStr(y.dims) !== shapeStr([n, ...outShape]))
      throw new ModelError(`${who}: output '${output}' is ${shapeStr(y.dims)}, its card ${cardFile} promises ${shapeStr([n, ...outShape])}`);
    const data = y.data as Float32Array;
    return tensor([n, ...outShape], role === 'encoder' ? Float32Array.from(data, (v) => v * s) : data.slice());
  };

  let vjpSession: Promise<{ session: ort.InferenceSession; cotangent: string; grad: string }> | undefined;
  const openVjp = async (): Promise<{ session: ort.InferenceSession; cotangent: string; grad: string }> => {
    const d = await vjpModel(readFileSync(file), input, { output, file });
    const opened = await ort.InferenceSession.create(d.bytes, { executionProviders: [provider], logSeverityLevel: 3 });
    return { session: opened, cotangent: d.cotangent, grad: d.grads[input]! };
  };

  const vjp = async (z: Tensor, v: Tensor): Promise<Tensor> => {
    const n = batchOf(z, latentShape, who, 'latent');
    batchOf(v, imageShape, who, 'cotangent');
    if (v.shape[0] !== n) throw new ModelError(`${who}: VJP cotangent ${shapeStr(v.shape)} for a latent batch of ${n}`);
    vjpSession ??= openVjp();
    const d = await vjpSession;
    const raw = tensor(
      z.shape,
      Float32Array.from(z.data, (a) => a / s),
    );
    const res = await d.session.run({ [input]: f32(raw, [n, ...latentShape]), [d.cotangent]: f32(v, [n, ...imageShape]) });
    return tensor(
      [n, ...latentShape],
      Float32Array.from(res[d.grad]!.data as Float32Array, (g) => g / s),
    );
  };

  return {
    role,
    autoencoder: card.autoencoder,
    card,
    file,
    imageShape,
    latentShape,
    scaleFactor: s,
    provider: `onnx:${provider}`,
    run: forward,
    ...(role === 'decoder' ? { vjp } : {}),
    async release() {
      await session.release();
      if (vjpSession) await (await vjpSession).session.release();
    },
  };
}
