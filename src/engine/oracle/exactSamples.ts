/**
 * Exact posterior samples for a linear operator with Gaussian noise under a Gaussian or
 * isotropic Gaussian-mixture prior, and the sliced Wasserstein distance between sample sets.
 * A component is drawn with its posterior weight, then perturb-and-MAP gives an exact draw from
 * that component's Gaussian posterior: with ỹ = y + σ_y n₁ and z̃ = μ + s n₂,
 *   x = argmin ½‖Ax − ỹ‖² + (σ_y²/2s²)‖x − z̃‖² = proxL2(z̃, ỹ, s²/σ_y²) ~ N(m_post, Σ_post).
 */
import type { ForwardModel } from '../operators/types';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { sizeOf, tensor } from '../tensor/tensor';
import { mixturePosterior } from './gaussianPosterior';

/** A prior component: weight, mean image (1×C×H×W) and isotropic std. */
export interface PriorComponent {
  weight: number;
  mean: Tensor;
  std: number;
}

/**
 * A sampler of the exact posterior: `(n, rng)` → N×C×H×W. The mixture weights (a dense Gram
 * matrix and one Cholesky factorisation per component) are computed once, not per call.
 */
export function exactPosteriorSampler(op: ForwardModel, y: Tensor, components: readonly PriorComponent[], sigmaY: number): (n: number, rng: Rng) => Tensor {
  if (!op.proxL2) throw new Error(`operator ${op.id} has no proxL2: exact posterior samples need a linear operator with one`);
  const prox = op.proxL2.bind(op);
  const weights = components.length === 1 ? [1] : mixturePosterior(op, y, components, sigmaY).map((c) => c.weight);
  const d = sizeOf(op.inShape);
  return (n, rng) => {
    const out = tensor([n, ...op.inShape]);
    for (let s = 0; s < n; s++) {
      let u = rng.uniform(),
        k = 0;
      while (k < weights.length - 1 && u >= weights[k]!) u -= weights[k++]!;
      const c = components[k]!;
      const yt = tensor(
        y.shape,
        Float32Array.from(y.data, (v) => v + sigmaY * rng.normal()),
      );
      const zt = tensor(
        [1, ...op.inShape],
        Float32Array.from(c.mean.data, (v) => v + c.std * rng.normal()),
      );
      out.data.set(prox(zt, yt, (c.std * c.std) / (sigmaY * sigmaY)).data, s * d);
    }
    return out;
  };
}

/** N exact posterior samples (N×C×H×W); see {@link exactPosteriorSampler} to draw several sets. */
export function exactPosteriorSamples(op: ForwardModel, y: Tensor, components: readonly PriorComponent[], sigmaY: number, n: number, rng: Rng): Tensor {
  return exactPosteriorSampler(op, y, components, sigmaY)(n, rng);
}

/**
 * Sliced Wasserstein-2 distance between two equal-size sample sets (N×…): the RMS over `slices`
 * random unit directions of the W₂ distance between the projected 1-D empirical distributions.
 */
export function slicedWasserstein(a: Tensor, b: Tensor, slices: number, rng: Rng): number {
  const n = a.shape[0]!,
    d = a.data.length / n;
  if (b.shape[0] !== n || b.data.length !== a.data.length) throw new RangeError('sliced Wasserstein: the two sample sets must have the same shape');
  let total = 0;
  const dir = new Float64Array(d);
  for (let l = 0; l < slices; l++) {
    let nrm = 0;
    for (let i = 0; i < d; i++) nrm += (dir[i] = rng.normal()) ** 2;
    nrm = Math.sqrt(nrm);
    const project = (t: Tensor): Float64Array => {
      const p = new Float64Array(n);
      for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) p[s]! += (t.data[s * d + i]! * dir[i]!) / nrm;
      return p.sort();
    };
    const pa = project(a),
      pb = project(b);
    for (let s = 0; s < n; s++) total += (pa[s]! - pb[s]!) ** 2 / n;
  }
  return Math.sqrt(total / slices);
}
