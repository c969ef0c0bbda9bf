/**
 * Prior, schedule, state and update nodes: the pieces DDiff, its ablations, DiffPIR, DPS and DAPS
 * are wired from. Symbols: ᾱ_t from the prior's VP schedule, t the current and s the next
 * timestep of the Schedule, σ_t = √((1−ᾱ_t)/ᾱ_t), n fresh N(0, I) noise from the run's seed.
 */
import { z } from 'zod';
import { defineNode } from './types';

// Integer maxima (iterations, steps) are protocol/limits.ts's LIMITS, written out because node
// kinds import no values of ours; tests/limits.test.ts checks that they agree.

const gmmComponent = z.object({ weight: z.number().positive(), mean: z.number(), std: z.number().positive() });

export const scoreModel = defineNode({
  kind: 'ScoreModel',
  title: 'Score model',
  category: 'prior',
  doc: 'A diffusion prior ε̂(x_t, t): a bundled or user ONNX model (ε/x₀/v parameterised, run on CUDA → DirectML → WebGPU → CPU), or an analytic prior with exact denoiser — Gaussian N(c·1, s²I), or N(μ, diag(s²)) with a mean image and per-pixel std, or a mixture Σ w_k N(c_k·1, s_k²I) — for checking solvers against closed-form posteriors. Guidance (DPS) needs the denoiser VJP (∂x̂₀/∂x_t)ᵀv: analytic priors have it exactly; for networks, vjp "exact" (the default) backpropagates through the network (reverse mode of its ONNX graph, no extra forwards; about 2–3× a forward in time), and vjp "symmetric-fd" uses the symmetry of the MMSE denoiser Jacobian (Tweedie: ∝ Cov[x₀|x_t]) and computes (x̂₀(x_t+hv) − x̂₀(x_t−hv))/2h, 2 extra forwards per VJP.',
  inputs: [],
  outputs: [{ name: 'prior', type: 'prior', doc: 'the score model' }],
  params: z.object({
    source: z.enum(['bundled', 'onnx', 'gaussian', 'gmm']).default('gaussian'),
    model: z.string().optional(),
    provider: z.enum(['auto', 'cuda', 'dml', 'webgpu', 'cpu']).default('auto'),
    /** How (∂x̂₀/∂x_t)ᵀv is computed for guidance (DPS): exact (analytic priors only) or symmetric finite differences. */
    vjp: z.enum(['exact', 'symmetric-fd']).default('exact'),
    mean: z.number().default(0).meta({ unit: 'image units', description: 'Gaussian prior mean c (source gaussian)' }),
    std: z.number().positive().default(0.5).meta({ unit: 'image units', description: 'Gaussian prior std s (source gaussian)' }),
    meanImage: z.string().min(1).optional().meta({
      unit: 'image units',
      description: 'per-pixel mean μ (source gaussian), replacing mean: an image source like ImageInput’s (sample:<name>, .png, .npy) of exactly the measurement’s C×H×W',
    }),
    stdImage: z.string().min(1).optional().meta({ unit: 'image units', description: 'per-pixel std sᵢ > 0 (source gaussian), replacing std: an .npy of C×H×W values' }),
    components: z
      .array(gmmComponent)
      .min(1)
      .max(1024)
      .default([
        { weight: 0.5, mean: -0.5, std: 0.2 },
        { weight: 0.5, mean: 0.5, std: 0.2 },
      ]),
  }),
  role: 'resource',
});

export const schedule = defineNode({
  kind: 'Schedule',
  title: 'Schedule',
  category: 'schedule',
  doc: 'Per-iteration timesteps t_k (k = 0…K−1, decreasing) of the prior’s VP schedule and the next step s_k = t_{k+1} (−1 after the last, ᾱ_{−1} = 1). spacing "uniform": t_k evenly from tStart to 0 (DDiff: K = 1000, every step); "quad": DiffPIR’s quadratic spacing, denser near 0; "edm": DAPS’s annealing grid σ_k = (σ_max^{1/ρ} + k/(K−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ mapped to continuous timesteps.',
  inputs: [{ name: 'prior', type: 'prior', anySpace: true, doc: 'whose ᾱ table the timesteps index' }],
  outputs: [
    { name: 'schedule', type: 'schedule', doc: 't_k, s_k, ᾱ, σ per iteration' },
    { name: 't', type: 'scalar', doc: 't_k' },
    { name: 'sigma', type: 'scalar', doc: 'σ_{t_k}' },
  ],
  params: z.object({
    iterations: z.number().int().min(1).max(100_000).default(1000).meta({ unit: 'iterations', description: 'K; a task override or the run may change it' }),
    spacing: z.enum(['uniform', 'quad', 'edm']).default('uniform'),
    tStart: z.number().min(0).optional().meta({ unit: 'timestep', description: 'first t (default T − 1)' }),
    sigmaMax: z.number().positive().default(100).meta({ unit: 'VE σ', description: 'edm spacing only' }),
    sigmaMin: z.number().positive().default(0.1).meta({ unit: 'VE σ', description: 'edm spacing only' }),
    rho: z.number().positive().default(7),
  }),
  role: 'resource',
});

export const state = defineNode({
  kind: 'State',
  title: 'State',
  category: 'state',
  doc: 'A loop register (x, z, u, x_t …): `current` is its value during iteration k, `next` what it becomes for k + 1. Initial value: zeros, noise·N(0, I), the `init` input, or the adjoint image Aᵀy of the measurement. Wired to latent ports it holds a latent of the graph’s autoencoder (shape from its cards; init zeros, noise or input). A cycle in the graph is legal only through a State’s `next`.',
  inputs: [
    { name: 'next', type: 'image', anySpace: true, doc: 'value for the next iteration' },
    { name: 'init', type: 'image', anySpace: true, optional: true, doc: 'initial value when init = "input"' },
    { name: 'measurement', type: 'measurement', optional: true, doc: 'for init = "adjoint"' },
  ],
  outputs: [{ name: 'current', type: 'image', anySpace: true, doc: 'value in this iteration' }],
  params: z.object({
    name: z.string().min(1).default('x'),
    init: z.enum(['zeros', 'noise', 'input', 'adjoint']).default('zeros'),
    noiseScale: z.number().positive().default(1).meta({ unit: 'std', description: 'init noise only' }),
  }),
  role: 'state',
  loopInput: 'next',
});

export const denoise = defineNode({
  kind: 'Denoise',
  title: 'Denoise (Tweedie)',
  category: 'update',
  doc: 'One network evaluation (1 NFE): ε̂ = ε_θ(x_t, t) and Tweedie’s x̂₀ = (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t, clipped to [−1, 1] when clip is set (guided-diffusion clip_denoised). In DDiff this is the z-update. With a learn_sigma prior (ADM networks whose card declares learned variance) the same evaluation also gives v, the variance interpolation ZUpdate’s variance "learned" uses.',
  inputs: [
    { name: 'xt', type: 'image', anySpace: true, doc: 'noisy iterate at level t' },
    { name: 'prior', type: 'prior', anySpace: true, doc: 'score model' },
    { name: 'schedule', type: 'schedule', doc: 'timesteps' },
  ],
  outputs: [
    { name: 'x0', type: 'image', anySpace: true, doc: 'x̂₀' },
    { name: 'eps', type: 'image', anySpace: true, doc: 'ε̂' },
    { name: 'v', type: 'image', anySpace: true, doc: 'variance interpolation v ∈ [−1, 1] (the network’s second C channels; learn_sigma priors only, no extra NFE)' },
  ],
  params: z.object({ clip: z.boolean().default(true) }),
});

const isProx = (p: Record<string, unknown>): boolean => p.mode === 'prox';
const isGradient = (p: Record<string, unknown>): boolean => p.mode !== 'prox';

/** DDiff's normalised gradient step and its a(t) profile (DDiff: 3.3, 0.1, 90), shared by the pixel and latent x-updates. */
export const gradientStepFields = {
  normalize: z.boolean().default(true),
  tGamma: z.number().min(0).default(90).meta({ unit: 'timestep', description: 't_γ: a(t) = a above, b below' }),
  a: z.number().positive().default(3.3).meta({ unit: '× γ₀' }),
  b: z.number().positive().default(0.1).meta({ unit: '× γ₀' }),
};

export const xUpdate = defineNode({
  kind: 'XUpdate',
  title: 'x-update (data)',
  category: 'update',
  doc: 'Data step from w = z − u (u = 0 when unconnected). mode "gradient": g = J_A(w)ᵀ(A(w) − y), x = w − γ₀·a(t)·g/‖g‖ per sample (DDiff’s normalised step, as its code: a step of length γ₀·a(t) at any image size; a(t) = a for t > t_γ, else b; normalize off: x = w − γ₀·a(t)·g). stepScale "per-pixel" multiplies the step by √(d/(3·256²)) (d values per image), so a γ₀ tuned at 256 px moves each pixel as much at other sizes; off by default. mode "prox": x = w + κ·(prox − w), prox = argmin ½‖Ax − y‖² + (ρ_t/2)‖x − w‖², ρ_t = λσ_n²/σ_t², σ_n = σ_y/2 ([0, 1] units, as DiffPIR), κ the guidance scale.',
  inputs: [
    { name: 'z', type: 'image', doc: 'prior-side estimate (e.g. x̂₀)' },
    { name: 'u', type: 'image', optional: true, doc: 'scaled dual variable' },
    { name: 'measurement', type: 'measurement', doc: 'y and A' },
    { name: 'schedule', type: 'schedule', doc: 'for a(t) and ρ_t' },
  ],
  outputs: [{ name: 'x', type: 'image', doc: 'data-consistent estimate' }],
  params: z.object({
    mode: z.enum(['gradient', 'prox']).default('gradient'),
    gamma0: z
      .number()
      .positive()
      .default(1)
      .meta({ unit: 'step length', description: 'γ₀: ‖x − w‖ = γ₀·a(t) per sample (normalised), times √(d/(3·256²)) with stepScale per-pixel' }),
    normalize: gradientStepFields.normalize,
    stepScale: z
      .enum(['none', 'per-pixel'])
      .default('none')
      .meta({ description: 'none: γ₀ as the DDiff code; per-pixel: × √(d/(3·256²)), the 256 px value’s per-pixel effect at other sizes' }),
    tGamma: gradientStepFields.tGamma,
    a: gradientStepFields.a,
    b: gradientStepFields.b,
    lambda: z.number().positive().default(1).meta({ unit: '× σ_n²/σ_t²', description: 'ρ_t scale (prox mode)' }),
    guidance: z.number().positive().default(1).meta({ unit: 'κ', description: 'prox mode' }),
  }),
  requires: [
    { port: 'measurement', capability: 'vjp', when: isGradient },
    { port: 'measurement', capability: 'proxL2', when: isProx, fallback: 'the linearized step x = w − J_A(w)ᵀ(A(w) − y)/ρ_t (DiffPIR’s gradient variant)' },
  ],
});

export const zUpdate = defineNode({
  kind: 'ZUpdate',
  title: 'Noising step (DDIM + dual)',
  category: 'update',
  doc: 'Next noisy iterate from a clean estimate x and the dual u re-injected at signal level: x_s = √ᾱ_s(x + u) + √(1−ζ)(√(1−ᾱ_s−c²) ε̂ + c n) + √ζ √(1−ᾱ_s) n′, ε̂ = (x_t − √ᾱ_t x)/√(1−ᾱ_t), c = η√((1−ᾱ_s)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_s) (or √β_t with posteriorStd "beta", DiffPIR). ζ = 1: DDiff’s fresh-noise mode; ζ = 0, η = 1: its DDPM mode. Noise is dropped for t ≤ t₀. variance "learned" (DPS’s learned_range; ζ = 0, η = 1 only, v wired from Denoise.v of a learn_sigma prior) keeps the mean and draws c·n with the per-pixel σ = exp(½(f log β′ + (1−f) log β̃)), f = (v+1)/2, β′ = 1 − ᾱ_t/ᾱ_s, β̃ = c² (at the last step the step before’s).',
  inputs: [
    { name: 'xt', type: 'image', anySpace: true, doc: 'current noisy iterate at level t' },
    { name: 'x', type: 'image', anySpace: true, doc: 'clean estimate' },
    { name: 'u', type: 'image', anySpace: true, optional: true, doc: 'dual variable (0 when unconnected)' },
    { name: 'schedule', type: 'schedule', doc: 'levels t and s' },
    { name: 'v', type: 'image', anySpace: true, optional: true, doc: 'variance interpolation from Denoise.v (variance "learned" only)' },
  ],
  outputs: [{ name: 'xt', type: 'image', anySpace: true, doc: 'x_s' }],
  params: z.object({
    zeta: z.number().min(0).max(1).default(0).meta({ unit: 'fraction', description: 'ζ: share of fresh noise' }),
    eta: z.number().min(0).default(1).meta({ unit: 'DDIM η' }),
    t0: z.number().min(0).default(0).meta({ unit: 'timestep', description: 'no noise at or below' }),
    posteriorStd: z.enum(['ddim', 'beta']).default('ddim'),
    variance: z
      .enum(['fixed', 'learned'])
      .default('fixed')
      .meta({ description: 'fixed: noise std c; learned: per-pixel σ = exp(½(f log β′ + (1−f) log β̃)), f = (v+1)/2 from input v (DPS with a learn_sigma network; ζ = 0, η = 1)' }),
  }),
});

export const dualUpdate = defineNode({
  kind: 'DualUpdate',
  title: 'Dual ascent',
  category: 'update',
  doc: 'u ← u + ρ(x − z): scaled dual ascent on the constraint x = z (ρ = 1 in DDiff).',
  inputs: [
    { name: 'u', type: 'image', anySpace: true, doc: 'current dual' },
    { name: 'x', type: 'image', anySpace: true, doc: 'data-side variable' },
    { name: 'z', type: 'image', anySpace: true, doc: 'prior-side variable' },
  ],
  outputs: [{ name: 'u', type: 'image', anySpace: true, doc: 'updated dual' }],
  params: z.object({ rho: z.number().positive().default(1) }),
});

export const noising = defineNode({
  kind: 'Noising',
  title: 'Noising',
  category: 'update',
  doc: 'Puts a clean image at a noise level: VP x_t = √ᾱ(x + u) + √(1−ᾱ) n, or VE x + u + σ n, at the current level t or the next level s; noise "none" gives the deterministic √ᾱ(x + u) (Diff-PnP’s denoiser input).',
  inputs: [
    { name: 'x', type: 'image', anySpace: true, doc: 'clean image' },
    { name: 'u', type: 'image', anySpace: true, optional: true, doc: 'added before noising' },
    { name: 'schedule', type: 'schedule', doc: 'levels' },
  ],
  outputs: [{ name: 'xt', type: 'image', anySpace: true, doc: 'noisy image' }],
  params: z.object({
    level: z.enum(['current', 'next']).default('next'),
    noise: z.enum(['fresh', 'none']).default('fresh'),
    domain: z.enum(['vp', 've']).default('vp'),
  }),
});

export const dpsGuidance = defineNode({
  kind: 'DPSGuidance',
  title: 'DPS guidance',
  category: 'update',
  doc: 'x ← x′ − ζ·∇_{x_t}‖y − A(x̂₀(x_t))‖₂ per sample (DPS: unsquared norm, ζ as in its code; stepScale "per-pixel" multiplies ζ by √(d/(3·256²)), the 256 px value’s per-pixel effect at other sizes): backpropagates through A and through the denoiser, so the prior must provide a denoiser VJP (analytic priors, or ONNX models that ship one).',
  inputs: [
    { name: 'xt', type: 'image', doc: 'iterate the denoiser saw' },
    { name: 'x0', type: 'image', doc: 'its x̂₀' },
    { name: 'next', type: 'image', doc: 'unconditional update x′' },
    { name: 'measurement', type: 'measurement', doc: 'y and A' },
    { name: 'prior', type: 'prior', doc: 'score model' },
    { name: 'schedule', type: 'schedule', doc: 'timestep t' },
  ],
  outputs: [{ name: 'x', type: 'image', doc: 'guided iterate' }],
  params: z.object({
    zeta: z.number().positive().default(1).meta({ unit: 'step', description: 'ζ on the gradient of the unsquared residual norm' }),
    stepScale: z.enum(['none', 'per-pixel']).default('none').meta({ description: 'none: ζ as the DPS code; per-pixel: × √(d/(3·256²))' }),
  }),
  requires: [
    { port: 'measurement', capability: 'vjp' },
    { port: 'prior', capability: 'denoiseVjp' },
  ],
});

export const annealedLangevin = defineNode({
  kind: 'AnnealedLangevin',
  title: 'Langevin (DAPS)',
  category: 'sampler',
  doc: 'K Langevin steps on p(x₀ | x̂₀, y) ∝ N(x₀; x̂₀, σ_k²I)·N(y; A(x₀), τ²I): x₀ ← x₀ − η_k[J_Aᵀ(A(x₀) − y)/τ² + (x₀ − x̂₀)/σ_k²] + √(2η_k) n, η_k decaying linearly from lr to lr·lrMinRatio over the run.',
  inputs: [
    { name: 'x0', type: 'image', doc: 'x̂₀ from the ODE' },
    { name: 'measurement', type: 'measurement', doc: 'y and A' },
    { name: 'schedule', type: 'schedule', doc: 'σ_k' },
  ],
  outputs: [{ name: 'x0', type: 'image', doc: 'posterior sample of x₀' }],
  params: z.object({
    steps: z.number().int().min(1).max(10_000).default(100),
    lr: z.number().positive().default(1e-4).meta({ unit: 'step size η₀' }),
    lrMinRatio: z.number().positive().max(1).default(0.01),
    tau: z.number().positive().default(0.01).meta({ unit: 'image units', description: 'τ: measurement std in the Langevin likelihood' }),
  }),
  requires: [{ port: 'measurement', capability: 'vjp' }],
});

export const probabilityFlowODE = defineNode({
  kind: 'ProbabilityFlowODE',
  title: 'PF-ODE (DAPS)',
  category: 'sampler',
  doc: 'x̂₀ from a VE iterate at σ_k by Euler steps of the probability-flow ODE dx/dσ = (x − D(x, σ))/σ on the grid g_m = (σ_k^{1/ρ} + m/(M−1)(σ_min^{1/ρ} − σ_k^{1/ρ}))^ρ then 0; D the EDM denoiser of the prior; M NFE.',
  inputs: [
    { name: 'x', type: 'image', anySpace: true, doc: 'VE iterate x₀ + σ_k n' },
    { name: 'prior', type: 'prior', anySpace: true, doc: 'score model' },
    { name: 'schedule', type: 'schedule', doc: 'σ_k' },
  ],
  outputs: [{ name: 'x0', type: 'image', anySpace: true, doc: 'x̂₀' }],
  params: z.object({
    steps: z.number().int().min(1).max(10_000).default(5).meta({ unit: 'NFE per iteration' }),
    sigmaMin: z.number().positive().default(0.01).meta({ unit: 'VE σ' }),
    rho: z.number().positive().default(7),
  }),
});
