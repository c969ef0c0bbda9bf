/**
 * An ordinary run is quiet: `lagrange run` on the bundled network prints nothing on stderr when
 * it succeeds. Before, every run printed Dawn's two-line "Couldn't load Vulkan" warning (WebGPU
 * was probed on machines without a Vulkan loader) and npm warned about the project's .npmrc key.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasVulkanLoader, providerUnavailable } from '../src/engine/priors/onnxPrior';

const ROOT = new URL('..', import.meta.url).pathname;

describe('quiet runs', () => {
  it('`lagrange run` on the bundled fmnist-32 network exits 0 with an empty stderr', () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-quiet-'));
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lagrange.mjs'), 'run', 'ddiff', '--task', 'inpaint-box', '--iterations', '3', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ddiff on inpaint-box: 3 iterations/);
    expect(r.stderr).toBe('');
  }, 150_000);

  it('WebGPU is probed on Linux only where a Vulkan loader is found, or when LAGRANGE_WEBGPU=probe asks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lagrange-vulkan-'));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'libvulkan.so.1'), '');
    expect(hasVulkanLoader({ LD_LIBRARY_PATH: join(dir, 'lib') })).toBe(true);
    if (process.platform !== 'linux' || hasVulkanLoader({})) return; // the refusal needs a machine without one
    expect(providerUnavailable('webgpu', {})).toMatch(/no Vulkan loader \(libvulkan\.so\.1\)/);
    expect(providerUnavailable('webgpu', { LAGRANGE_WEBGPU: 'probe' })).toBeUndefined();
  });
});
