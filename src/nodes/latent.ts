/**
 * Latent-space nodes: the encoder and decoder of a latent model's autoencoder, and the latent
 * score model. Latents travel on `latent` ports, images on `image` ports, so a latent cannot be
 * wired where an image is expected (nor the reverse). Symbols: E, D the autoencoder's networks,
 * s its scale factor; the prior's latents are z = s·E(x), decoded as D(z/s).
 */
import { z } from 'zod';
import { gradientStepFields } from './solver';
import { defineNode } from './types';

/** The bundled latent model (`resources/models/fmnist-latent-8`). */
const DEFAULT_LATENT_MODEL = 'fmnist-latent-8';

const modelParams = {
  source: z.enum(['bundled', 'onnx']).default('bundled').meta({ description: 'bundled: a model name (bundled, then yours); onnx: a model folder path' }),
  model: z.string().min(1).default(DEFAULT_LATENT_MODEL).meta({ description: 'latent model folder (model.json with a latent block, encoder.json, decoder.json)' }),
  provider: z.enum(['auto', 'cuda', 'dml', 'webgpu', 'cpu']).default('auto'),
};

export const encoder = defineNode({
  kind: 'Encoder',
  title: 'Encoder',
  category: 'prior',
  doc: 'The autoencoder’s encoder, an ONNX network of a latent model folder: z = s·E(x), the posterior mean of q(z|x) scaled by the card’s factor s into the prior’s latent space. The image must have the card’s C×H×W; the latent has the card’s latent shape.',
  inputs: [{ name: 'image', type: 'image', doc: 'image x in [−1, 1] (N×C×H×W)' }],
  outputs: [{ name: 'z', type: 'latent', doc: 'latent s·E(x)' }],
  params: z.object(modelParams),
});

export const decoder = defineNode({
  kind: 'Decoder',
  title: 'Decoder',
  category: 'prior',
  doc: 'The autoencoder’s decoder, an ONNX network of a latent model folder: x = D(z/s) in [−1, 1]. With a cotangent v wired (an image, e.g. the data-fit gradient 2·J_Aᵀ(A(x) − y)) it also gives grad = (∂D(z/s)/∂z)ᵀ v = J_D(z/s)ᵀ v / s by reverse mode through the network (one decoder VJP, no extra forwards), the chain rule that carries an image-space gradient into latent space.',
  inputs: [
    { name: 'z', type: 'latent', doc: 'latent in the prior’s space' },
    { name: 'cotangent', type: 'image', optional: true, doc: 'v for the VJP (image shape); unconnected: no VJP' },
  ],
  outputs: [
    { name: 'image', type: 'image', doc: 'decoded image D(z/s)' },
    { name: 'grad', type: 'latent', doc: '(∂D(z/s)/∂z)ᵀ v (only with a cotangent)' },
  ],
  params: z.object(modelParams),
});

export const latentScoreModel = defineNode({
  kind: 'LatentScoreModel',
  title: 'Latent score model',
  category: 'prior',
  doc: 'A diffusion prior ε̂(z_t, t) over the latents of an autoencoder (VP ε-prediction, as the pixel priors): the model.json of a latent model folder, whose latent block names the autoencoder (id and the hashes of its encoder and decoder), the scale factor s and the image shape behind the latent. Encoder and Decoder nodes must come from the same autoencoder; a pixel prior’s folder is refused. Its denoiser VJP is exact (reverse mode through the network) or symmetric finite differences, as for ScoreModel.',
  inputs: [],
  outputs: [{ name: 'prior', type: 'prior', space: 'latent', doc: 'the latent score model (its shape is the latent C×H×W)' }],
  params: z.object({ ...modelParams, vjp: z.enum(['exact', 'symmetric-fd']).default('exact') }),
  role: 'resource',
});

export const latentXUpdate = defineNode({
  kind: 'LatentXUpdate',
  title: 'x-update through the decoder',
  category: 'update',
  doc: 'LatentDDiff’s data step in latent space, from v = z − u (u = 0 when unconnected): x̂ = D(v/s), g = (∂D(v/s)/∂v)ᵀ J_A(x̂)ᵀ(A(x̂) − y), the gradient of ½‖y − A(D(v/s))‖² (one decoder forward and one decoder VJP), then x = v − γ₀·a(t)·g/‖g‖ per sample (normalize off: x = v − γ₀·a(t)·g), a(t) = a for t > t_γ, else b, as XUpdate’s gradient mode. decoded is x̂ = D(v/s), the image of the start point (no extra forward).',
  inputs: [
    { name: 'z', type: 'latent', doc: 'prior-side latent estimate (e.g. Tweedie ẑ₀)' },
    { name: 'u', type: 'latent', optional: true, doc: 'scaled dual variable in latent space' },
    { name: 'measurement', type: 'measurement', doc: 'y and A' },
    { name: 'schedule', type: 'schedule', doc: 'for a(t)' },
  ],
  outputs: [
    { name: 'x', type: 'latent', doc: 'data-consistent latent' },
    { name: 'decoded', type: 'image', doc: 'D(v/s), the decoded start point' },
  ],
  params: z.object({
    ...modelParams,
    gamma0: z.number().positive().default(1).meta({ unit: 'latent step length', description: 'γ₀: ‖x − v‖ = γ₀·a(t) per sample (normalised)' }),
    ...gradientStepFields,
  }),
  requires: [{ port: 'measurement', capability: 'vjp' }],
});

/** The latent node kinds, for the registry. */
export const latentNodes = [encoder, decoder, latentScoreModel, latentXUpdate] as const;
