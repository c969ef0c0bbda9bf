/**
 * The conjugate-gradient proxL2 against the closed forms it replaces, its stopping report, the
 * registry's wrapper, and a DiffPIR run on an operator that has only apply and adjoint.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile';
import { parseGraph } from '../graph/format';
import type { GraphDocument } from '../graph/format';
import { validateGraph } from '../graph/validate';
import { prepareBackend } from '../runtime/backend';
import { runPlan } from '../runtime/run';
import { createRng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { z as zod } from 'zod';
import { linearOperator, mapBatch } from './batch';
import { cgProxL2, operatorCapabilities, withCgProx } from './cgProx';
import { checkOperator, formatCheck } from './check';
import { createOperator, instantiateOperator, operatorSpec, registerOperator } from './registry';
import type { ForwardModel, OperatorSpec } from './types';

const SHAPE: Shape = [3, 32, 32];

const randn = (shape: Shape, seed: number): Tensor => {
  const t = tensor(shape);
  createRng(seed, 'cgProx.test').fillNormal(t.data);
  return t;
};
const relDiff = (a: Tensor, b: Tensor): number => {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += (a.data[i]! - b.data[i]!) ** 2;
    den += b.data[i]! ** 2;
  }
  return Math.sqrt(num / den);
};
/** `op` without its own proxL2: what a plugin operator with only apply and adjoint looks like. */
const withoutProx = (op: ForwardModel): ForwardModel => {
  const { proxL2: _prox, proxMethod: _method, ...rest } = op;
  return rest;
};

describe('cgProxL2', () => {
  describe.each(['sr4', 'deblur-gauss', 'inpaint-box', 'inpaint-random'])('on %s with its closed form removed', (id) => {
    const op = createOperator(id, { shape: SHAPE, seed: 1 });
    const cg = withCgProx(withoutProx(op));
    const x = randn([2, ...SHAPE], 2),
      z = randn([2, ...SHAPE], 3);
    const y = op.apply(x);

    it('is the CG one', () => {
      expect(op.proxMethod).toBe('closed-form');
      expect(cg.proxMethod).toBe('cg');
    });

    it.each([0.05, 1, 20])('equals the closed form to 1e-5 relative at γ = %s', (gamma) => {
      expect(relDiff(cg.proxL2!(z, y, gamma), op.proxL2!(z, y, gamma))).toBeLessThan(1e-5);
    });
  });

  const blur = withoutProx(createOperator('deblur-gauss', { shape: SHAPE, seed: 1 }));
  const z = randn([2, ...SHAPE], 4);
  const y1 = blur.apply(randn([1, ...SHAPE], 5));

  it('reports each sample’s iterations and a true residual within the tolerance', () => {
    const { solves } = cgProxL2(blur, z, y1, 20);
    expect(solves).toHaveLength(2);
    for (const s of solves) {
      expect(s.converged).toBe(true);
      expect(s.iterations).toBeGreaterThan(5);
      expect(s.residual).toBeLessThan(2e-6); // recomputed from the float32 x, so a little above 1e-6 is rounding
    }
  });

  it('stops at the iteration cap and says it did not converge', () => {
    const { solves } = cgProxL2(blur, z, y1, 20, { maxIter: 3 });
    expect(solves.map((s) => [s.iterations, s.converged])).toEqual([
      [3, false],
      [3, false],
    ]);
    expect(solves[0]!.residual).toBeGreaterThan(1e-3);
  });

  it('solves a batch with a broadcast y as each sample alone', () => {
    const both = cgProxL2(blur, z, y1, 1).x;
    const per = z.data.length / 2;
    const second = cgProxL2(blur, tensor([1, ...SHAPE], z.data.slice(per)), y1, 1).x;
    expect(Array.from(both.data.slice(per))).toEqual(Array.from(second.data));
  });

  it('refuses a nonlinear operator, an operator without adjoint and a bad γ', () => {
    const hdr = createOperator('hdr', { shape: SHAPE });
    expect(() => cgProxL2(hdr, z, hdr.apply(z), 1)).toThrow(/operator hdr: the conjugate-gradient proxL2 needs a linear operator with an adjoint/);
    const { adjoint: _a, ...noAdjoint } = blur;
    expect(() => cgProxL2(noAdjoint, z, y1, 1)).toThrow(/needs a linear operator with an adjoint/);
    expect(() => cgProxL2(blur, z, y1, 0)).toThrow(/proxL2 step γ must be a positive number, got 0/);
  });
});

describe('withCgProx', () => {
  it('leaves operators with their own proxL2, nonlinear ones and those without adjoint as they are', () => {
    for (const id of ['sr4', 'deblur-motion', 'hdr', 'phase-retrieval']) {
      const op = createOperator(id, { shape: SHAPE });
      expect(withCgProx(op)).toBe(op);
    }
    expect(createOperator('deblur-motion', { shape: SHAPE }).proxMethod).toBe('iterative');
  });

  it('keeps the methods of a class-based operator working', () => {
    const base = withoutProx(createOperator('deblur-gauss', { shape: SHAPE }));
    class Blur {
      readonly id = 'class-blur';
      readonly inShape = SHAPE;
      readonly outShape = SHAPE;
      readonly linear = true;
      readonly params = {};
      readonly artifacts = {};
      apply(x: Tensor, out?: Tensor): Tensor {
        return base.apply(x, out);
      }
      adjoint(y: Tensor, out?: Tensor): Tensor {
        return base.adjoint!(y, out);
      }
      view(y: Tensor): Tensor {
        return y;
      }
    }
    const op = withCgProx(new Blur());
    expect(op.proxMethod).toBe('cg');
    const r = checkOperator(op);
    expect(r.ok, formatCheck(r)).toBe(true);
  });

  it('gives the registry’s instances of an apply+adjoint spec a proxL2 that passes the conformance check', () => {
    const gauss = operatorSpec('deblur-gauss');
    const spec: OperatorSpec = { ...gauss, capabilities: ['adjoint', 'vjp'], create: (p, ctx) => withoutProx(gauss.create(p, ctx)) };
    expect(operatorCapabilities(spec)).toEqual(['adjoint', 'vjp', 'proxL2']);
    const op = instantiateOperator(spec, { shape: SHAPE });
    expect(op.proxMethod).toBe('cg');
    const r = checkOperator(op);
    expect(r.checks.find((c) => c.name === 'proxL2')?.ok, formatCheck(r)).toBe(true);
  });
});

/**
 * 2×2 average pooling per channel, y[i, j] = ¼Σ x[2i + a, 2j + b], Aᵀy spreads ¼y over each block;
 * AAᵀ = I/4, so the prox has the closed form x = z + Aᵀ(y − Az)/(¼ + 1/γ) (Woodbury). `closed`
 * false leaves only apply and adjoint, as a plugin operator without a prox of its own.
 */
function pool2(closed: boolean): OperatorSpec {
  const id = closed ? 'test-pool2' : 'test-pool2-cg';
  return {
    id,
    title: '2×2 average pooling',
    summary: 'test operator',
    doc: 'y = 2×2 block means of x',
    linear: true,
    seeded: false,
    capabilities: closed ? ['adjoint', 'vjp', 'proxL2'] : ['adjoint', 'vjp'],
    params: zod.object({}),
    defaults: () => ({}),
    checkShape: ([, h, w]) => (h! % 2 || w! % 2 ? 'H and W must be even' : undefined),
    create(_p, ctx) {
      const [c, h, w] = ctx.shape as [number, number, number];
      const out: Shape = [c, h / 2, w / 2];
      const who = `operator ${id}`;
      /** The output index of input pixel i: its channel's plane, its 2×2 block. */
      const blockOf = (i: number): number => {
        const k = Math.floor(i / (h * w)),
          r = Math.floor((i % (h * w)) / w),
          col = i % w;
        return (k * h * w) / 4 + Math.floor(r / 2) * (w / 2) + Math.floor(col / 2);
      };
      const apply = (x: Tensor, o?: Tensor): Tensor => mapBatch(x, ctx.shape, out, who, 'input x', (a, b) => a.forEach((v, i) => (b[blockOf(i)] = b[blockOf(i)]! + v / 4)), o);
      const adjoint = (y: Tensor, o?: Tensor): Tensor => mapBatch(y, out, ctx.shape, who, 'measurement y', (a, b) => b.forEach((_, i) => (b[i] = a[blockOf(i)]! / 4)), o);
      const proxL2 = (zt: Tensor, y: Tensor, gamma: number): Tensor => {
        const r = apply(zt);
        const ny = y.shape[0]!,
          per = r.data.length / zt.shape[0]!;
        for (let i = 0; i < r.data.length; i++) r.data[i] = (y.data[ny > 1 ? i : i % per]! - r.data[i]!) / (0.25 + 1 / gamma);
        const back = adjoint(r);
        return tensor(
          zt.shape,
          zt.data.map((v, i) => v + back.data[i]!),
        );
      };
      return linearOperator({
        id,
        inShape: ctx.shape,
        outShape: out,
        params: {},
        artifacts: {},
        apply,
        adjoint,
        ...(closed ? { proxL2, proxMethod: 'closed-form' as const } : {}),
        view: (y) => y,
      });
    },
  };
}

describe('DiffPIR on an operator with only apply and adjoint', () => {
  const unregister = [registerOperator(pool2(true), 'cgProx.test', { kind: 'TestPool2' }), registerOperator(pool2(false), 'cgProx.test', { kind: 'TestPool2Cg' })];
  afterAll(() => unregister.forEach((f) => f()));

  /** The DiffPIR preset with the analytic Gaussian prior, on the operator node `kind`. */
  function diffpir(kind: string): GraphDocument {
    const doc = parseGraph(JSON.parse(readFileSync(new URL('../../../resources/presets/diffpir.lagrange.json', import.meta.url), 'utf8')));
    const nodes = doc.nodes.map((n) => (n.kind === 'ScoreModel' ? { ...n, params: { source: 'gaussian' } } : n.id === 'A' ? { ...n, kind, params: {} } : n));
    return { ...doc, nodes };
  }

  it('has a closed form that the conformance check accepts (the reference below)', () => {
    const r = checkOperator(instantiateOperator(pool2(true), { shape: SHAPE }));
    expect(r.ok, formatCheck(r)).toBe(true);
  });

  it('validates without falling back to the linearized step, runs the CG prox, says so, and matches the closed form', async () => {
    const v = validateGraph(diffpir('TestPool2Cg'));
    expect(v.ok).toBe(true);
    expect(v.warnings.map((w) => w.message).join('\n')).not.toMatch(/linearized/);
    const run = async (kind: string): Promise<{ x: Tensor; warnings: string[] }> => {
      const r = await runPlan(await compile(diffpir(kind), { iterations: 30 }), { throttleMs: 0 });
      return { x: r.result!, warnings: r.report.warnings };
    };
    const cg = await run('TestPool2Cg'),
      closed = await run('TestPool2');
    const notes = cg.warnings.join('\n');
    expect(notes).toMatch(
      /XUpdate: operator test-pool2-cg has no closed-form proxL2; solved \(AᵀA \+ I\/γ\)x = Aᵀy \+ z\/γ by conjugate gradients \(relative residual 1e-6, at most 500 iterations\)/,
    );
    expect(notes).toMatch(/^XUpdate "x": conjugate-gradient proxL2 took \d+–\d+ iterations per solve, worst relative residual \d\.\de-\d+$/m);
    expect(closed.warnings.join('\n')).not.toMatch(/conjugate|linearized/);
    let worst = 0;
    for (let i = 0; i < cg.x.data.length; i++) worst = Math.max(worst, Math.abs(cg.x.data[i]! - closed.x.data[i]!));
    expect(worst).toBeLessThan(1e-6); // measured 1.2e-7: one float32 step at 1
  });

  it('runs on the ONNX backend node by node, the CG prox in JS with the reason in the note', async () => {
    const plan = await compile(diffpir('TestPool2Cg'), { iterations: 4 });
    const js = await runPlan(plan, { throttleMs: 0 });
    const backend = await prepareBackend(plan, 'onnx-node');
    const onnx = await runPlan(plan, { backend }).finally(() => backend.release());
    expect(onnx.status).toBe('done');
    expect(onnx.report.warnings.join('\n')).toMatch(/XUpdate \(prox: operator test-pool2-cg: its proxL2 is the engine's conjugate-gradient solve \(no closed form\)/);
    expect(onnx.report.warnings.join('\n')).toMatch(/solved \(AᵀA \+ I\/γ\)x = Aᵀy \+ z\/γ by conjugate gradients/);
    let worst = 0;
    for (let i = 0; i < js.result!.data.length; i++) worst = Math.max(worst, Math.abs(js.result!.data[i]! - onnx.result!.data[i]!));
    expect(worst).toBeLessThan(1e-4);
  });
});
