/**
 * Measurement-operator nodes, one per task of the DDiff/DAPS suite. Each outputs an unapplied
 * operator; parameters left unset take the papers' 256 px values rescaled to the image size
 * (every length × min(H, W)/256), which the engine resolves when the image size is known.
 */
import type { z } from 'zod';
import {
  boxInpaintingParams,
  gaussianBlurParams,
  hdrParams,
  motionBlurParams,
  nonlinearBlurParams,
  onnxOperatorParams,
  phaseRetrievalParams,
  randomInpaintingParams,
  superResolutionParams,
} from './operatorParams';
import type { NodeKind } from './types';
import { defineNode } from './types';

function operatorNode<S extends z.ZodType<Record<string, unknown>>>(kind: string, task: string, title: string, doc: string, params: S): NodeKind<S> & { task: string } {
  return {
    ...defineNode({
      kind,
      title,
      category: 'operator',
      doc,
      inputs: [],
      outputs: [{ name: 'operator', type: 'operator', doc: `A = ${task}` }],
      params,
      role: 'value',
    }),
    task,
  };
}

export const superResolution = operatorNode(
  'SuperResolution',
  'sr4',
  '×4 super-resolution',
  'A(x) = bicubic antialiased ×f downsampling (MATLAB imresize), f = 4: 256 → 64 px. Linear; exact adjoint; closed-form proxL2.',
  superResolutionParams.partial(),
);

export const boxInpainting = operatorNode(
  'BoxInpainting',
  'inpaint-box',
  'Box inpainting',
  'A(x) = m ⊙ x with a 128×128 hole at 256 px (half the side), at a seeded random position ≥ 32 px from the borders, or centred. Self-adjoint; element-wise proxL2.',
  boxInpaintingParams.partial(),
);

export const randomInpainting = operatorNode(
  'RandomInpainting',
  'inpaint-random',
  'Random inpainting',
  'A(x) = m ⊙ x with 70 % of the pixels missing (seeded, shared over channels). Self-adjoint; element-wise proxL2.',
  randomInpaintingParams.partial(),
);

export const gaussianBlur = operatorNode(
  'GaussianBlur',
  'deblur-gauss',
  'Gaussian blur',
  'A(x) = k * x per channel, k Gaussian 61×61, σ = 3 at 256 px, reflect padding. Linear; exact adjoint; closed-form proxL2.',
  gaussianBlurParams.partial(),
);

export const motionBlur = operatorNode(
  'MotionBlur',
  'deblur-motion',
  'Motion blur',
  'A(x) = k * x per channel with a seeded random camera-shake kernel, 61×61, intensity 0.5 at 256 px, reflect padding. Linear; exact adjoint; proxL2 by preconditioned CG.',
  motionBlurParams.partial(),
);

export const phaseRetrieval = operatorNode(
  'PhaseRetrieval',
  'phase-retrieval',
  'Phase retrieval',
  'A(x) = |F P x₀₁|, x₀₁ = (x+1)/2 (inputRange "01", as DAPS) or x (inputRange "pm1", as DPS and DDiff), P zero padding by 64 px per side at 256 px (oversampling 2), F the orthonormal DFT; or |F P x₀₁|². Nonlinear; analytic VJP.',
  phaseRetrievalParams.partial(),
);

export const nonlinearBlur = operatorNode(
  'NonlinearBlur',
  'deblur-nonlinear',
  'Nonlinear blur (stand-in)',
  'Stand-in for the papers’ learned GOPRO blur: A(x) = K₂ * φ(K₁ * x), φ(h) = tanh(βh)/tanh(β), K₁ a seeded motion kernel, K₂ a small Gaussian. Nonlinear; analytic VJP.',
  nonlinearBlurParams.partial(),
);

export const hdr = operatorNode('HDR', 'hdr', 'High dynamic range', 'A(x) = clip(2x, −1, 1). Nonlinear; VJP 2v where unsaturated, 0 elsewhere.', hdrParams.partial());

/** All operator node kinds, with the task id each builds. */
export const operatorNodes = [superResolution, boxInpainting, randomInpainting, gaussianBlur, motionBlur, phaseRetrieval, nonlinearBlur, hdr];

/**
 * A learned or exported forward model from an ONNX operator folder (operator.json + apply.onnx,
 * optional adjoint.onnx / vjp.onnx). Not among `operatorNodes`, the tasks a measurement can be
 * simulated for from an image alone: this one needs its folder.
 */
export const onnxOperator = operatorNode(
  'OnnxOperator',
  'onnx-operator',
  'ONNX operator (folder)',
  'A(x) = apply.onnx of an operator folder: operator.json (name, linear, input/output names and shapes), apply.onnx, optional adjoint.onnx (used as Aᵀ only if it passes the adjoint test at load) and vjp.onnx (x, v → g, nonlinear operators). The image must have the card’s C×H×W.',
  onnxOperatorParams.pick({ path: true, provider: true }),
);
