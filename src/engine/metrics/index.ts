/** Image-quality and data-fit metrics. */
export { psnr } from './psnr';
export { ssim } from './ssim';
export { noiseNormalisedResidual, relativeResidual } from './residual';
