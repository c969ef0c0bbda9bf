/**
 * The latent presets: DDiff's loop with its registers in the latent space of the bundled
 * autoencoder (docs/latent.md). The same Denoise, ZUpdate and DualUpdate nodes as pixel DDiff run
 * on latents (their ports follow the space of what is wired to them); LatentXUpdate takes the data
 * step through one decoder VJP, and a Decoder turns the latent result into the image Output,
 * Preview and Metrics see; two more decode z_t and ẑ for the previews. Decoders that only sinks
 * read run as taps (src/engine/compile/taps.ts): once per shown frame, not once per iteration.
 */
import type { Params, Task } from './graph';
import { byTask, DDIFF, finish, Graph, noiseMode } from './graph';

/** The bundled latent model, and a held-out image it never saw (tuning used 16–23, evaluation 00–15). */
export const LATENT_MODEL = 'fmnist-latent-8';
const LATENT_IMAGE = `model:${LATENT_MODEL}/heldout/03.png`;

/**
 * γ₀ of LatentXUpdate (a step length in latent units) where it was tuned: box inpainting on
 * held-out images 16–23 (docs/latent.md: 0.3 → +0.00 dB, 1 → +2.86 dB, 3 → +3.22 dB on 5 images).
 */
const LATENT_GAMMA: Partial<Record<Task, number>> = { 'inpaint-box': 1 };
const UNTUNED_GAMMA = 1;

export function latentDDiff(): object {
  const model = { source: 'bundled', model: LATENT_MODEL };
  const g = new Graph()
    .node('image', 'ImageInput', { source: LATENT_IMAGE }, 0, 0)
    .node('A', 'BoxInpainting', {}, 0, 1)
    .node('measure', 'Simulate', { sigma: 0.05 }, 1, 0.5)
    .node('prior', 'LatentScoreModel', model, 0, 3)
    .node('schedule', 'Schedule', { iterations: 1000, spacing: 'uniform' }, 1, 3)
    .node('zt', 'State', { name: 'z_t', init: 'noise' }, 2, 1)
    .node('u', 'State', { name: 'u', init: 'zeros' }, 2, 2)
    // Latents have no range to clip to (unit variance by the scale factor); the decoder bounds images.
    .node('z', 'Denoise', { clip: false }, 3, 1)
    .node('x', 'LatentXUpdate', { ...model, gamma0: UNTUNED_GAMMA, tGamma: 90, a: 3.3, b: 0.1 }, 4, 1)
    .node('noise', 'ZUpdate', { zeta: 1, eta: 1, t0: 1 }, 5, 1)
    .node('dual', 'DualUpdate', { rho: 1 }, 5, 2)
    .node('decode', 'Decoder', model, 6, 1)
    // Decoded views of the latent states for the previews: taps, decoded only for shown frames.
    .node('decode-zt', 'Decoder', model, 2, -1)
    .node('decode-z', 'Decoder', model, 3, -1)
    .edge('image.image', 'measure.image')
    .edge('A.operator', 'measure.operator')
    .edge('prior.prior', 'schedule.prior')
    .edge('zt.current', 'z.xt')
    .edge('prior.prior', 'z.prior')
    .edge('schedule.schedule', 'z.schedule')
    .edge('z.x0', 'x.z')
    .edge('u.current', 'x.u')
    .edge('measure.measurement', 'x.measurement')
    .edge('schedule.schedule', 'x.schedule')
    .edge('zt.current', 'noise.xt')
    .edge('x.x', 'noise.x')
    .edge('u.current', 'noise.u')
    .edge('schedule.schedule', 'noise.schedule')
    .edge('noise.xt', 'zt.next')
    .edge('u.current', 'dual.u')
    .edge('x.x', 'dual.x')
    .edge('z.x0', 'dual.z')
    .edge('dual.u', 'u.next')
    .edge('x.x', 'decode.z')
    .edge('zt.current', 'decode-zt.z')
    .edge('z.x0', 'decode-z.z');
  // Noise mode and t₀ are the diffusion's side of DDiff's table and carry over; γ₀ does not (latent
  // units), so it is 1 wherever it was not tuned.
  const table = byTask((t): Record<string, Params> => ({ x: { gamma0: LATENT_GAMMA[t] ?? UNTUNED_GAMMA }, noise: { ...noiseMode(DDIFF[t].mode), t0: DDIFF[t].t0 } }));
  const tuned = Object.fromEntries(Object.entries(LATENT_GAMMA).map(([t, g0]) => [`task:${t}`, { x: { gamma0: g0 } }]));
  return finish(
    g,
    'decode.image',
    [
      { id: 'preview-xt', label: 'D(z_t)', from: 'decode-zt.image', x: 2, y: -2 },
      { id: 'preview-z', label: 'D(ẑ)', from: 'decode-z.image', x: 3, y: -2 },
    ],
    'latent-ddiff',
    'LatentDDiff: DDiff in the latent space of the bundled fmnist-latent-8 autoencoder — ẑ = Tweedie denoise of the latent z_t, x = normalised step on ½‖y − A(D(v))‖² from v = ẑ − u through one decoder VJP, z_t re-noised from x + u, u += x − ẑ; the result is D(x). 1000 NFE + 1000 decoder VJPs. γ₀ (latent units) is tuned for box inpainting only (held-out images 16–23); the other tasks take DDiff’s noise modes and an untuned γ₀ = 1.',
    table,
    {
      note: 'no official code: DDiff’s loop transcribed into latent space (ALGORITHMS.md §7.2; choices in docs/latent.md); noise mode and t₀ per task from DDiff’s FFHQ table',
      tuned: { note: 'γ₀ tuned for box inpainting on fmnist-latent-8, held-out images 16–23 (docs/latent.md)', overrides: tuned },
    },
  );
}
