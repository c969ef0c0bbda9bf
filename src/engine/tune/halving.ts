/**
 * Successive halving: every trial first runs cheaply (fewer iterations and/or fewer validation
 * images), then the best 1/η of each rung are promoted to a rung η times as expensive, until the
 * last rung runs the survivors at the full budget. Pure planning and ranking; tune.ts runs it.
 */

/** What a rung runs each of its trials with. */
export interface Rung {
  /** 0 = the cheapest. */
  index: number;
  /** Trials run at this rung. */
  trials: number;
  /** Iterations K of every run. */
  iterations: number;
  /** The first `images` validation images. */
  images: number;
}

/** Which cost halving cuts on the early rungs. */
export type Fidelity = 'iterations' | 'images' | 'both';

/** Inputs of {@link planRungs}. */
export interface HalvingPlan {
  /** Trials started at rung 0. */
  trials: number;
  /** Reduction factor η ≥ 2: rung i + 1 keeps ⌊trials_i / η⌋ (at least 1) and costs η× more per trial. */
  eta: number;
  /** The full iteration budget K. */
  iterations: number;
  /** Validation images at the full budget. */
  images: number;
  fidelity: Fidelity;
  /** Upper bound on the rungs (default 3); fewer when too few trials or too little to cut. */
  maxRungs?: number;
  /** Fewest iterations a cheap rung may run (default 4: fewer stop being the same solver). */
  minIterations?: number;
}

/**
 * The rungs, cheapest first; the last runs at the full budget (K iterations on every validation
 * image). Rung i runs at fraction η^−(R−1−i) of the budget in the dimensions `fidelity` cuts.
 */
export function planRungs(p: HalvingPlan): Rung[] {
  const minK = Math.min(p.iterations, p.minIterations ?? 4);
  const cutsK = p.fidelity !== 'images',
    cutsImages = p.fidelity !== 'iterations';
  let R = Math.max(1, Math.min(p.maxRungs ?? 3, 1 + Math.floor(Math.log(p.trials) / Math.log(p.eta) + 1e-9)));
  // A rung that would run exactly what the next one runs saves nothing: drop it.
  const at = (i: number, r: number): Rung => {
    const f = p.eta ** -(r - 1 - i);
    return {
      index: i,
      trials: Math.max(1, Math.floor(p.trials / p.eta ** i)),
      iterations: cutsK ? Math.max(minK, Math.round(p.iterations * f)) : p.iterations,
      images: cutsImages ? Math.max(1, Math.ceil(p.images * f)) : p.images,
    };
  };
  while (R > 1 && at(0, R).iterations === at(1, R).iterations && at(0, R).images === at(1, R).images) R--;
  return Array.from({ length: R }, (_, i) => at(i, R));
}

/** Objective direction: PSNR and SSIM are maximised, LPIPS and the residual minimised. */
export const OBJECTIVES = { psnr: 'max', ssim: 'max', lpips: 'min', residual: 'min' } as const;
export type Objective = keyof typeof OBJECTIVES;

/**
 * The trials promoted from a rung: the best `keep` by score (objective direction applied), ties
 * to the lower trial id; a trial without a score (every row failed) is never promoted.
 */
export function promote(scores: ReadonlyMap<number, number>, keep: number, objective: Objective): number[] {
  const sign = OBJECTIVES[objective] === 'max' ? -1 : 1;
  return [...scores.entries()]
    .filter(([, s]) => Number.isFinite(s))
    .sort((a, b) => sign * (a[1] - b[1]) || a[0] - b[0])
    .slice(0, keep)
    .map(([id]) => id);
}

/** NFE of the whole search, from the NFE one full-budget run of one image costs (cost ∝ iterations). */
export function searchNfe(rungs: readonly Rung[], nfeFull: number, fullIterations: number): number {
  return rungs.reduce((s, r) => s + r.trials * r.images * nfeFull * (r.iterations / fullIterations), 0);
}
