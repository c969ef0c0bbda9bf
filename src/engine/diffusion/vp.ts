/**
 * Conversions between the parameterisations of a VP diffusion prior, derived once for every
 * prior: x̂₀ = (x_t − √(1−ᾱ) ε̂)/√ᾱ,  ε̂ = (x_t − √ᾱ x̂₀)/√(1−ᾱ),  score = −ε̂/√(1−ᾱ).
 */
import type { Tensor } from '../tensor/tensor';
import { zerosLike } from '../tensor/tensor';

/** Tweedie's x̂₀ = (x_t − √(1−ᾱ) ε̂)/√ᾱ. */
export function x0FromEps(xt: Tensor, eps: Tensor, alphaBar: number, out: Tensor = zerosLike(xt)): Tensor {
  const a = Math.sqrt(alphaBar),
    b = Math.sqrt(1 - alphaBar);
  for (let i = 0; i < out.data.length; i++) out.data[i] = (xt.data[i]! - b * eps.data[i]!) / a;
  return out;
}

/** The noise implied by an x₀ estimate: ε̂ = (x_t − √ᾱ x̂₀)/√(1−ᾱ). */
export function epsFromX0(xt: Tensor, x0: Tensor, alphaBar: number, out: Tensor = zerosLike(xt)): Tensor {
  const a = Math.sqrt(alphaBar),
    b = Math.sqrt(1 - alphaBar);
  for (let i = 0; i < out.data.length; i++) out.data[i] = (xt.data[i]! - a * x0.data[i]!) / b;
  return out;
}
