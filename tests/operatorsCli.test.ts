/**
 * `lagrange operators list` and `lagrange operators check <target>`: the listing of every
 * registered operator with how its proxL2 is done, the conformance check of a registered
 * operator by name (passing, failing by property, refused size), and dispatch to an operator
 * folder or the plugins' operators.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli as run } from './helpers/cli';
import type { OperatorRow } from '../src/cli/operators';
import { operatorSpec, registerOperator } from '../src/engine/operators/registry';
import type { ForwardModel, OperatorSpec } from '../src/engine/operators/types';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;

const gauss = operatorSpec('deblur-gauss');
/** deblur-gauss without its proxL2 (gets the CG one), under another id. */
const noProx: OperatorSpec = {
  ...gauss,
  id: 'test-blur-noprox',
  title: 'Blur, apply+adjoint',
  capabilities: ['adjoint', 'vjp'],
  create: (p, ctx) => {
    const { proxL2: _p, proxMethod: _m, ...rest } = gauss.create(p, ctx);
    return { ...rest, id: 'test-blur-noprox' };
  },
};
/** deblur-gauss whose "adjoint" is the identity: the trap the adjoint check exists for. */
const badAdjoint: OperatorSpec = {
  ...gauss,
  id: 'test-blur-badadjoint',
  create: (p, ctx): ForwardModel => ({ ...gauss.create(p, ctx), id: 'test-blur-badadjoint', adjoint: (y) => tensor(y.shape, y.data.slice()) }),
};
const removers = [registerOperator(noProx, 'operatorsCli.test'), registerOperator(badAdjoint, 'operatorsCli.test')];
afterAll(() => removers.forEach((f) => f()));

describe('lagrange operators list', () => {
  it('lists every operator with linearity, capabilities, how proxL2 is done and origin', async () => {
    const r = await run('operators', 'list');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^id +title +linear +capabilities +origin$/);
    const row = (id: string): string => r.out.find((l) => l.startsWith(`${id} `)) ?? '';
    expect(row('sr4')).toMatch(/^sr4 +Super-resolution ×4 +yes +adjoint, vjp, proxL2 \(closed form\) +builtin$/);
    expect(row('deblur-motion')).toMatch(/proxL2 \(operator's own solver\) +builtin$/);
    expect(row('hdr')).toMatch(/ no +vjp +builtin$/);
    expect(row('test-blur-noprox')).toMatch(/ yes +adjoint, vjp, proxL2 \(engine CG\) +operatorsCli\.test$/);
  });

  it('gives the same rows as JSON', async () => {
    const r = await run('operators', 'list', '--json');
    const rows = JSON.parse(r.out[0]!) as OperatorRow[];
    expect(rows.find((x) => x.id === 'sr4')).toEqual({
      id: 'sr4',
      title: 'Super-resolution ×4',
      linear: true,
      capabilities: ['adjoint', 'vjp', 'proxL2'],
      prox: 'closed-form',
      origin: 'builtin',
    });
    expect(rows.find((x) => x.id === 'phase-retrieval')).toMatchObject({ linear: false, capabilities: ['vjp'] });
    expect(rows.find((x) => x.id === 'phase-retrieval')!.prox).toBeUndefined();
    expect(rows.find((x) => x.id === 'test-blur-noprox')).toMatchObject({ prox: 'cg', origin: 'operatorsCli.test' });
  });
});

describe('lagrange operators check <name>', () => {
  it('passes a built-in operator at the given size, one line per check', async () => {
    const r = await run('operators', 'check', 'sr4', '--size', '16', '--channels', '1');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('operator sr4 (builtin): linear, 1×16×16 → 1×4×4, proxL2 closed form, seed 0');
    expect(r.out.slice(1, -1).map((l) => l.split(':')[0])).toEqual(['✓ shapes', '✓ adjoint', '✓ vjp', '✓ proxL2', '✓ determinism', '✓ out']);
    expect(r.out.at(-1)).toBe('ok: the operator passes every check that applies');
  });

  it('passes an operator whose proxL2 is the engine CG', async () => {
    const r = await run('operators', 'check', 'test-blur-noprox', '--size', '16');
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('proxL2 engine CG');
    expect(r.out.find((l) => l.startsWith('✓ proxL2'))).toMatch(/relative residual .* ≤ 1\.0e-5/);
  });

  it('exits 1 naming the failing property of a broken operator', async () => {
    const r = await run('operators', 'check', 'test-blur-badadjoint', '--size', '16');
    expect(r.code).toBe(1);
    expect(r.out.find((l) => l.startsWith('✗ adjoint'))).toMatch(/relative error \S+ > 1\.0e-5 — the adjoint is not the transpose of apply/);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^lagrange: operator check failed: adjoint: relative error \S+ > 1\.0e-5 — the adjoint is not the transpose of apply/);
  });

  it('reports the checks as one JSON line', async () => {
    const r = await run('operators', 'check', 'hdr', '--size', '16', '--json');
    const j = JSON.parse(r.out[0]!) as { ok: boolean; operator: string; shape: number[]; checks: { name: string; ok: boolean }[] };
    expect(j).toMatchObject({ ok: true, operator: 'hdr', shape: [3, 16, 16] });
    expect(j.checks.map((c) => c.name)).toEqual(['shapes', 'vjp', 'determinism', 'out']);
  });

  it('refuses a size the operator does not support, saying why', async () => {
    const r = await run('operators', 'check', 'sr4', '--size', '30');
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toMatch(/operator sr4: H and W must be divisible by the factor 4.*\(image 3×30×30\); choose another --size\/--channels/);
  });

  it('refuses a target that is neither a registered operator nor an operator folder', async () => {
    const r = await run('operators', 'check', join(tmpdir(), 'no-such-operator'));
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toMatch(/is neither a registered operator \(sr4, .*\) nor an operator folder \(no operator\.json there\)/);
  });

  it('hands a folder with operator.json to the operator-folder check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lagrange-opcheck-'));
    writeFileSync(join(dir, 'operator.json'), '{}');
    const r = await run('operators', 'check', dir);
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/^✗ load: /);
  });
});

// A separate process: plugins load once per process, from --plugin.
describe('lagrange --plugin <dir> operators check', () => {
  it('checks a plugin operator that relies on the engine CG prox', () => {
    const bin = join(ROOT, 'bin/lagrange.mjs');
    const r = spawnSync(process.execPath, [bin, '--plugin', join(ROOT, 'plugins/mri'), 'operators', 'check', 'mri', '--size', '16', '--channels', '1'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^operator mri \(mri\): linear, .*proxL2 engine CG/);
    expect(r.stdout).toMatch(/✓ proxL2: /);
  });
});
