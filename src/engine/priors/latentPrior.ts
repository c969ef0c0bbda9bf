/**
 * The latent score model of a LatentScoreModel node: the UNet of a latent model folder as a
 * {@link ScoreModel} over latents (shape = the latent C×H×W), refused when the folder is a pixel
 * prior's or its three cards do not fit together, with the denoiser VJP DPS-style guidance needs.
 */
import { withExactVjp } from '../onnx/autodiff/priorVjp';
import { resolveModelDir } from './catalog';
import type { LatentBlock } from './latentCard';
import { latentFolderProblems, readLatentFolder } from './latentCard';
import type { ExecutionProvider, OnnxScoreModel } from './onnxPrior';
import { loadOnnxPrior, ModelError } from './onnxPrior';
import { withSymmetricVjp } from './symmetricVjp';

/** A latent prior: the ONNX score model plus the latent block of its card. */
export type LatentScoreModel = OnnxScoreModel & { readonly latent: LatentBlock };

/** The folder a latent node's `source` and `model` name: a model name (bundled first) or a path. */
export function latentModelDir(params: Record<string, unknown>): string {
  const model = (params.model as string | undefined) ?? 'fmnist-latent-8';
  return params.source === 'onnx' ? model : resolveModelDir(model);
}

/** Options of {@link loadLatentPrior}. */
export interface LoadLatentPriorOptions {
  providers?: readonly ExecutionProvider[];
  /** How (∂ẑ₀/∂z_t)ᵀv is computed: reverse mode (default) or symmetric finite differences. */
  vjp?: 'exact' | 'symmetric-fd';
}

/**
 * Loads the latent prior of folder `dir`.
 * @throws ModelCardError for a pixel prior's folder or a malformed card; ModelError when the
 * cards disagree (ids, hashes, shapes, scale factors) or the network does not load
 */
export async function loadLatentPrior(dir: string, opts: LoadLatentPriorOptions = {}): Promise<LatentScoreModel> {
  const folder = readLatentFolder(dir);
  const problems = latentFolderProblems(folder);
  if (problems.length) throw new ModelError(`latent model ${folder.prior.name}: ${problems.join('; ')}`);
  const loaded = await loadOnnxPrior(dir, opts.providers ? { providers: opts.providers } : {});
  const model = opts.vjp === 'symmetric-fd' ? withSymmetricVjp(loaded) : withExactVjp(loaded);
  return Object.assign(model, { latent: folder.prior.block });
}
