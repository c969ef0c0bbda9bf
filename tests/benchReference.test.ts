/**
 * bench/torch_reference.py's weight loading: the bundled model.onnx mapped onto the PyTorch UNet of
 * tools/prior/unet.py must reproduce the export's reference outputs (check/eps.npy). Runs only
 * `--check-only` (a few seconds); the timed DDiff loop is `npm run bench:reference`. Skipped when
 * the interpreter lacks torch, onnx or numpy; LAGRANGE_PYTHON chooses it (default /usr/bin/python3).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const python = process.env.LAGRANGE_PYTHON ?? '/usr/bin/python3';
const ready = spawnSync(python, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0;
if (!ready) console.warn(`benchReference.test: skipped, ${python} cannot import torch, onnx and numpy (apt-get install python3-torch python3-onnx python3-numpy)`);

describe.skipIf(!ready)('bench/torch_reference.py --check-only', () => {
  it('loads the ONNX weights strictly and matches check/eps.npy within 1e-4', () => {
    // One thread: the check is four forwards, and tests run in parallel.
    const r = spawnSync(python, ['bench/torch_reference.py', '--check-only', '--threads', '1'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { max_abs_check_err: number };
    expect(out.max_abs_check_err).toBeGreaterThanOrEqual(0);
    expect(out.max_abs_check_err).toBeLessThan(1e-4);
  });
});
