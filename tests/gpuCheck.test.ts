/**
 * The GPU check's preparation and its CPU rehearsal (tools/gpu): `npm run gpu:check` packs what
 * the device needs within the budget, and the device command, run here with GPU_CHECK_DRY=1,
 * unpacks it into a temp folder, runs the unpacked node binary (not this one), probes WebGPU,
 * checks the bundled model, measures backend rows and (with python3-torch) the PyTorch loop, and
 * writes the table. The first run compresses node and the packages (minutes on 2 cores); later
 * runs reuse them from node_modules/.cache/gpu-check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gpu-check-test-'));
const pack = join(dir, 'gpu-check');
const out = join(dir, 'out');
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gpu:check', () => {
  it('prepares node, the engine, its packages and the Vulkan loader within the budget, and names one short command', { timeout: 240_000 }, () => {
    const stdout = execFileSync(process.execPath, ['tools/gpu/prepare.mjs', '--out', pack], { cwd: ROOT, encoding: 'utf8' });
    const m = JSON.parse(readFileSync(join(pack, 'manifest.json'), 'utf8'));
    expect(m.bytes.folder).toBeLessThanOrEqual(m.budget.folder);
    expect(m.bytes.call).toBeLessThanOrEqual(m.budget.call);
    expect(m.budget.call).toBeLessThan(64 * 2 ** 20);
    expect(m.payload.packages).toEqual(expect.arrayContaining(['onnxruntime-node', 'onnxruntime-common', 'zod', 'protobufjs']));
    expect(m.payload.packages).not.toContain('vite');
    const listing = execFileSync('tar', ['-tJf', join(pack, 'payload.tar.xz')], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n');
    for (const f of ['engine/cli.mjs', 'engine/gpu-bench.mjs', 'engine/noise-worker.mjs', 'lagrange.mjs']) expect(listing).toContain(f);
    const runtime = execFileSync('tar', ['-tJf', join(pack, 'runtime.tar.xz')], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n');
    for (const f of ['lib/libvulkan.so.1', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', 'node_modules/zod/package.json']) {
      expect(runtime).toContain(f);
    }
    expect([...listing, ...runtime].some((f) => f.includes('/darwin/') || f.includes('/win32/') || f.endsWith('.map'))).toBe(false);
    const command = `${m.command} ${JSON.stringify(m.carry)}`;
    expect(command.length).toBeLessThan(2000);
    expect(stdout).toContain(m.command);
  });

  it('rehearses the device command on the CPU and writes the table', { timeout: 300_000 }, () => {
    const r = spawnSync('bash', ['tools/gpu/device.sh'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, GPU_CHECK_DRY: '1', GPU_CHECK_DIR: pack, OUT: out, GPU_CHECK_BUDGET_S: '280' },
    });
    const log = readFileSync(join(out, 'steps.log'), 'utf8');
    expect(r.status, `${r.stderr}\n${log}`).toBe(0);
    // The unpacked node ran (from the temp folder), then every step ended; only the WebGPU probe may fail here.
    expect(log).toMatch(/unpacked into \/\S+gpu-check-\S+: v\d+\.\d+/);
    for (const s of ['providers', 'check-fmnist-32', 'rows-fmnist-32']) expect(log).toContain(`${s}: exit 0`);
    expect(readFileSync(join(out, 'providers.txt'), 'utf8')).toMatch(/webgpu: (available|unavailable \(.+\))/);
    // The probe's report says why WebGPU did or did not open.
    const probe = JSON.parse(
      readFileSync(join(out, 'webgpu-probe.txt'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('{'))!,
    );
    expect(probe.providers[0].provider).toBe('webgpu');
    if (!probe.providers[0].available) expect(probe.providers[0].reason).toMatch(/WebGPU|Vulkan/);
    const rows = readFileSync(join(out, 'rows-fmnist-32.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.preset)).toEqual(['ddiff', 'diffpir', 'daps']);
    for (const x of rows) {
      expect(x.provider).toBe('onnx:cpu');
      expect(x.fwdMs).toBeGreaterThan(0);
      for (const b of ['js', 'node', 'fused']) expect(x[b].ms, `${x.preset} ${b}: ${x[b].error}`).toBeGreaterThan(0);
    }
    const table = readFileSync(join(out, 'gpu-table.md'), 'utf8');
    expect(table).toContain('CPU dry run');
    expect(table).toMatch(/\| ddiff \| fmnist-32 \| 32 \| onnx:cpu \|/);
    if (!hasTorch) {
      console.warn('gpuCheck.test: /usr/bin/python3 lacks torch or onnx (apt-get install python3-torch python3-onnx): the PyTorch step was not checked');
      return;
    }
    expect(log).toContain('torch-fmnist-32: exit 0');
    const torch = JSON.parse(readFileSync(join(out, 'torch-fmnist-32.json'), 'utf8'));
    expect(torch.check_err).toBeLessThan(1e-3);
    expect(torch.nfe).toBe(20);
    expect(table).toMatch(/\| fmnist-32 \| 32 \| cpu \(torch /);
    expect(existsSync(join(out, 'torch-fmnist-32.txt'))).toBe(true);
  });
});
