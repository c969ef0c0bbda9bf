// @ts-check
/**
 * Writes the example plugins' solver presets (plugins/<plugin>/presets/*.lagrange.json) from the
 * shipped presets (resources/presets): the same graphs with the operator node replaced by the
 * plugin's node kind (marked `"plugin"`), the task overrides narrowed to the plugin's task and
 * the step sizes measured for it (plugins/<plugin>/README.md has the sweeps).
 * Run: node plugins/build-presets.mjs
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const shipped = join(here, '..', 'resources', 'presets');

/**
 * @typedef {object} PresetPlan
 * @property {string} base shipped preset it is made from
 * @property {string} name
 * @property {string} description
 * @property {Record<string, Record<string, unknown>>} params node id → parameters merged over the base's
 * @property {string} [held] held-out image shown by default
 */

/**
 * @typedef {object} PluginPlan
 * @property {string} plugin
 * @property {string} task
 * @property {string} kind
 * @property {PresetPlan[]} presets
 */

/** @type {PluginPlan[]} */
const plans = [
  {
    plugin: 'ct',
    task: 'ct',
    kind: 'ParallelBeamCT',
    presets: [
      {
        base: 'ddiff',
        name: 'ct-ddiff',
        description: 'DDiff on sparse-view CT: Tweedie denoise, normalised gradient step on ½‖Rx − y‖² (Rᵀ by back-projection), dual ascent, fresh-noise re-noising.',
        params: { x: { gamma0: 10 } },
      },
      {
        base: 'diffpir',
        name: 'ct-diffpir',
        description: 'DiffPIR on sparse-view CT: denoise, exact data prox (AᵀA + ρ_t I)⁻¹(Aᵀy + ρ_t z) by conjugate gradients, DDIM re-noising.',
        params: { x: { lambda: 1 }, noise: { zeta: 0.3 } },
      },
      {
        base: 'diff-pnp-hqs',
        name: 'ct-diff-pnp-hqs',
        description: 'Diff-PnP-HQS on sparse-view CT: z = D(x, σ_t), x = exact data prox of z by conjugate gradients.',
        params: { x: { mode: 'prox', lambda: 1 } },
      },
      {
        base: 'diff-pnp-admm',
        name: 'ct-diff-pnp-admm',
        description: 'Diff-PnP-ADMM on sparse-view CT: z = D(x + u, σ_t), x = exact data prox of z − u by conjugate gradients, u += x − z.',
        params: { x: { mode: 'prox', lambda: 3 } },
      },
      {
        base: 'dps',
        name: 'ct-dps',
        description: 'DPS on sparse-view CT: ancestral DDPM with the likelihood gradient through the denoiser (symmetric finite-difference VJP of the network).',
        params: { guide: { zeta: 1 } },
      },
    ],
  },
  {
    plugin: 'mri',
    task: 'mri',
    kind: 'CartesianMRI',
    presets: [
      {
        base: 'ddiff',
        name: 'mri-ddiff',
        description: 'DDiff on Cartesian MRI: Tweedie denoise, normalised gradient step on ½‖MFx − y‖², dual ascent, fresh-noise re-noising.',
        params: { x: { gamma0: 30 } },
      },
      {
        base: 'diffpir',
        name: 'mri-diffpir',
        description: 'DiffPIR on Cartesian MRI: denoise, exact data prox by conjugate gradients, DDIM re-noising.',
        params: { x: { lambda: 0.3 }, noise: { zeta: 0.3 } },
      },
      {
        base: 'diff-pnp-hqs',
        name: 'mri-diff-pnp-hqs',
        description: 'Diff-PnP-HQS on Cartesian MRI: z = D(x, σ_t), x = exact data prox of z by conjugate gradients.',
        params: { x: { mode: 'prox', lambda: 0.3 } },
      },
      {
        base: 'diff-pnp-admm',
        name: 'mri-diff-pnp-admm',
        description: 'Diff-PnP-ADMM on Cartesian MRI: z = D(x + u, σ_t), x = exact data prox of z − u by conjugate gradients, u += x − z.',
        params: { x: { mode: 'prox', lambda: 3 } },
      },
      {
        base: 'dps',
        name: 'mri-dps',
        description: 'DPS on Cartesian MRI: ancestral DDPM with the likelihood gradient through the denoiser (symmetric finite-difference VJP of the network).',
        params: { guide: { zeta: 1 } },
      },
    ],
  },
];

/**
 * The preset document for one plan entry.
 * @param {PluginPlan} pp
 * @param {PresetPlan} p
 */
export function buildPreset(pp, p) {
  const base = JSON.parse(readFileSync(join(shipped, `${p.base}.lagrange.json`), 'utf8'));
  const op = base.nodes.find((/** @type {{ id: string }} */ n) => n.id === 'A');
  if (!op) throw new Error(`${p.base}: no operator node 'A'`);
  Object.assign(op, { kind: pp.kind, plugin: pp.plugin, params: {} });
  for (const [id, params] of Object.entries(p.params)) {
    const node = base.nodes.find((/** @type {{ id: string }} */ n) => n.id === id);
    if (!node) throw new Error(`${p.base}: no node '${id}' to set ${JSON.stringify(params)} on`);
    node.params = { ...node.params, ...params };
  }
  const image = base.nodes.find((/** @type {{ kind: string }} */ n) => n.kind === 'ImageInput');
  if (image && p.held) image.params = { ...image.params, source: `model:fmnist-32/heldout/${p.held}.png` };
  // The built-in tasks' overrides and paper references do not apply to this operator.
  const { overrides: _o, reference: _r, ...rest } = base;
  return { ...rest, name: p.name, description: p.description };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const pp of plans) {
    const dir = join(here, pp.plugin, 'presets');
    mkdirSync(dir, { recursive: true });
    for (const p of pp.presets) {
      writeFileSync(join(dir, `${p.name}.lagrange.json`), JSON.stringify(buildPreset(pp, p), null, 2) + '\n');
      console.log(`wrote ${join(pp.plugin, 'presets', `${p.name}.lagrange.json`)}`);
    }
  }
}

export { plans };
