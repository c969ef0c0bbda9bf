/**
 * The parameter schemas of the built-in measurement operators, declared once: the engine's
 * operator specs validate an instance's parameters with them (every key set, from the size-scaled
 * defaults and the node's overrides), and each operator node kind takes them with every key
 * optional (`.partial()`), so the inspector, the validator and the operator agree on names, types
 * and ranges.
 */
import { z } from 'zod';

/** An odd kernel side in pixels. */
const oddSide = () =>
  z
    .number()
    .int()
    .min(1)
    .max(1023)
    .refine((k) => k % 2 === 1, 'kernel size must be odd')
    .meta({ unit: 'px' });

/** `sr4`: bicubic antialiased ×f downsampling. */
export const superResolutionParams = z.object({
  factor: z.number().int().min(1).max(64).meta({ unit: '×', description: 'downsampling factor f; H and W must be multiples of f' }),
});

/** `inpaint-box`: a box hole. */
export const boxInpaintingParams = z.object({
  placement: z.enum(['random', 'center']),
  boxHeight: z.number().int().min(1).max(4096).meta({ unit: 'px' }),
  boxWidth: z.number().int().min(1).max(4096).meta({ unit: 'px' }),
  margin: z.number().int().min(0).max(4096).meta({ unit: 'px', description: 'least distance of a random box from the borders' }),
});

/** `inpaint-random`: random missing pixels. */
export const randomInpaintingParams = z.object({
  missing: z.number().min(0).lt(1).meta({ unit: 'fraction of pixels' }),
});

/** `deblur-gauss`: a normalised k×k Gaussian kernel. */
export const gaussianBlurParams = z.object({
  kernelSize: oddSide(),
  sigma: z.number().positive().meta({ unit: 'px', description: 'Gaussian standard deviation σ' }),
});

/** `deblur-motion`: a seeded camera-shake kernel. */
export const motionBlurParams = z.object({
  kernelSize: oddSide(),
  intensity: z.number().min(0).max(1).meta({ description: 'shake intensity (0 = a straight line)' }),
});

/** `phase-retrieval`: Fourier magnitudes of the zero-padded image. */
export const phaseRetrievalParams = z.object({
  pad: z.number().int().min(0).max(4096).meta({ unit: 'px', description: 'zero padding per side' }),
  measure: z.enum(['amplitude', 'intensity']),
  inputRange: z.enum(['01', 'pm1']).meta({ description: '01: x₀₁ = (x + 1)/2 (DAPS); pm1: x₀₁ = x (DPS, DDiff)' }),
});

/** `deblur-nonlinear`: K₂ * φ(K₁ * x). */
export const nonlinearBlurParams = z.object({
  kernelSize: oddSide().meta({ unit: 'px', description: 'side of the motion kernel K₁' }),
  intensity: z.number().min(0).max(1).meta({ description: 'shake intensity of K₁' }),
  beta: z.number().positive().meta({ description: 'saturation strength β of φ(h) = tanh(βh)/tanh(β)' }),
  blurSigma: z.number().positive().meta({ unit: 'px', description: 'standard deviation of the Gaussian K₂' }),
});

/** `hdr`: clip(s·x, −1, 1). */
export const hdrParams = z.object({ scale: z.number().positive() });

/** `onnx-operator`: a forward model from an operator folder. */
export const onnxOperatorParams = z.object({
  path: z.string().min(1).optional().meta({ description: 'operator folder (operator.json, apply.onnx, …)' }),
  /** Where the folder's sessions run outside a fused iteration (inside one, they run on the iteration's provider). */
  provider: z
    .enum(['auto', 'cuda', 'dml', 'webgpu', 'cpu'])
    .default('auto')
    .meta({ description: 'execution provider for the folder’s networks: auto = CUDA → DirectML → WebGPU → CPU, the first that is available (as the score model)' }),
  /** sha-256 over the card and the model files, as a measurement bundle records it (not a node parameter). */
  digest: z.string().optional(),
});
