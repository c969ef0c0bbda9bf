/**
 * An ONNX operator folder as a ForwardModel: `operator.json` + `apply.onnx`, optional
 * `adjoint.onnx` (linear only) and `vjp.onnx`. The models are checked against the card first
 * (files.ts), run synchronously through a session thread (sync.ts), and the adjoint is attached
 * only if it passes the adjoint test here, at load. A linear operator's VJP is its adjoint; a
 * nonlinear one's is vjp.onnx. Without either, the VJP is derived from apply.onnx by reverse mode
 * (`onnx/autodiff`); for a linear operator that derived VJP, taken at x = 0, is its adjoint, and it
 * is attached as such only if it passes the adjoint test (a card that says linear of a nonlinear
 * apply.onnx fails it and is refused).
 */
import { join, resolve } from 'node:path';
import type { ExecutionProvider } from '../../priors/onnxPrior';
import { createRng } from '../../tensor/rng';
import type { Shape, Tensor } from '../../tensor/tensor';
import { assertShape, batchOf, dot, norm, sameShape, ShapeError, shapeStr, sizeOf, tensor } from '../../tensor/tensor';
import type { ForwardModel } from '../types';
import type { OperatorCard } from './card';
import { CARD_FILE, OnnxOperatorError, readOperatorCard } from './card';
import type { OperatorModel, OperatorModels } from './files';
import { MODEL_FILES, readOperatorModels } from './files';
import type { SyncSessions } from './sync';
import { openSyncSessions } from './sync';

/** The registry id every ONNX folder operator has (its card's name is in `card`). */
export const ONNX_OPERATOR_ID = 'onnx-operator';

/** The DESIGN's adjoint tolerance in float32, with float64 accumulation. */
export const ADJOINT_TOLERANCE = 1e-5;

/** A loaded ONNX folder operator. */
export interface OnnxForwardModel extends ForwardModel {
  /** The folder, absolute. */
  readonly dir: string;
  readonly card: OperatorCard;
  /** The checked model files (the fused backend inlines them). */
  readonly models: OperatorModels;
  /** The provider the sessions opened on. */
  readonly provider: string;
  /** What loading decided (adjoint test value, where the VJP comes from). */
  readonly notes: readonly string[];
  /** Releases the sessions and their thread; the operator cannot be applied afterwards. */
  release(): void;
}

/** Options of {@link loadOnnxOperator}. */
export interface LoadOnnxOperatorOptions {
  /** Per-sample image shape C×H×W the operator must take (refused, naming both shapes, if the card's differs). */
  shape?: Shape;
  /** Execution providers in order of preference (default CPU). */
  providers?: readonly ExecutionProvider[];
  /**
   * Attach adjoint.onnx without requiring it to pass the adjoint test: for conformance checks
   * (`lagrange operators check`) of the candidate itself, never for solving.
   */
  unverifiedAdjoint?: boolean;
  /** Parameters recorded in `params` (default `{ path: dir }`). */
  params?: Readonly<Record<string, unknown>>;
}

/**
 * |⟨Ax, y⟩ − ⟨x, Aᵀy⟩| / max(‖Ax‖‖y‖, ‖x‖‖Aᵀy‖) over seeded normal x and y (batch 2), float64
 * sums: the conformance suite's measure (check.ts). Normalised by the norms rather than by the
 * inner products, which random x and y can make small however exact the adjoint is.
 */
export function adjointError(op: Pick<ForwardModel, 'inShape' | 'outShape' | 'apply'> & { adjoint(y: Tensor): Tensor }, seed = 0): number {
  const rng = createRng(seed, 'onnx-operator/adjoint');
  const x = tensor([2, ...op.inShape]),
    y = tensor([2, ...op.outShape]);
  rng.fillNormal(x.data);
  rng.fillNormal(y.data);
  const ax = op.apply(x),
    aty = op.adjoint(y);
  return Math.abs(dot(ax, y) - dot(x, aty)) / Math.max(norm(ax) * norm(y), norm(x) * norm(aty), 1e-30);
}

/**
 * Loads the operator in `dir`.
 * @throws OnnxOperatorError naming the file: card refused, a model that disagrees with the card,
 *   an image shape other than the card's, a VJP that must be derived and cannot be (an op without
 *   a rule, named), a card that declares linear an apply.onnx whose derived adjoint fails the test
 */
export function loadOnnxOperator(dir: string, opts: LoadOnnxOperatorOptions = {}): OnnxForwardModel {
  const abs = resolve(dir);
  const card = readOperatorCard(abs);
  const inShape = card.input.shape.slice(1) as number[];
  const outShape = card.output.shape.slice(1) as number[];
  if (opts.shape && !sameShape(opts.shape, inShape)) {
    throw new OnnxOperatorError(`operator folder ${abs}: its card takes ${card.input.name} of ${shapeStr(inShape)} per sample, but the image is ${shapeStr(opts.shape)}`);
  }
  const models: OperatorModels = readOperatorModels(abs, card);
  const bytes: Record<string, Uint8Array> = Object.fromEntries(Object.entries(models).map(([role, m]) => [role, m.bytes]));
  const sessions = openSyncSessions(bytes, opts.providers ?? ['cpu'], `operator folder ${abs}`);
  const who = `operator ${ONNX_OPERATOR_ID} (${card.name})`;

  /** Runs `role` on inputs given by role; per sample when the model has a fixed batch of 1. */
  const run = (role: keyof OperatorModels, m: OperatorModel, inputs: Record<string, Tensor>, outPer: Shape, out?: Tensor): Tensor => {
    const n = Object.values(inputs)[0]!.shape[0]!;
    const named = (ins: Record<string, Tensor>): Record<string, Tensor> => Object.fromEntries(Object.entries(ins).map(([r, t]) => [m.inputs[r]!, t]));
    let result: Tensor;
    if (m.anyBatch || n === 1) result = sessions.run(role, named(inputs), m.output);
    else {
      result = tensor([n, ...outPer]);
      const size = sizeOf(outPer);
      for (let i = 0; i < n; i++) {
        const one = Object.fromEntries(Object.entries(inputs).map(([r, t]) => [r, sampleOf(t, i)]));
        result.data.set(sessions.run(role, named(one), m.output).data, i * size);
      }
    }
    if (!sameShape(result.shape, [n, ...outPer])) throw new ShapeError(`${who}: ${m.file} gave ${shapeStr(result.shape)}, the card declares ${shapeStr([n, ...outPer])}`);
    if (!out) return result;
    assertShape(out, result.shape, who, 'output');
    out.data.set(result.data);
    return out;
  };

  const apply = (x: Tensor, out?: Tensor): Tensor => {
    batchOf(x, inShape, who, 'input x');
    return run('apply', models.apply, { x }, outShape, out);
  };
  const candidate = models.adjoint
    ? (y: Tensor, out?: Tensor): Tensor => {
        batchOf(y, outShape, who, 'measurement y');
        return run('adjoint', models.adjoint!, { y }, inShape, out);
      }
    : undefined;
  const notes: string[] = [];
  let adjoint = candidate;
  if (candidate && !opts.unverifiedAdjoint) {
    const err = adjointError({ inShape, outShape, apply, adjoint: candidate });
    if (!(err < ADJOINT_TOLERANCE)) {
      // A wrong file the user gave is an error, not something to work around: without adjoint.onnx
      // the adjoint would be derived from apply.onnx, but they asked for this one.
      sessions.close();
      throw new OnnxOperatorError(
        `${models.adjoint!.file} fails the adjoint test: relative error ${err.toExponential(2)} ≥ ${ADJOINT_TOLERANCE.toExponential(0)}; fix it, or remove it and the adjoint is derived from apply.onnx by reverse mode`,
      );
    } else notes.push(`adjoint.onnx passes the adjoint test (relative error ${err.toExponential(2)})`);
  }
  if (!adjoint) delete models.adjoint;
  let source = adjoint ? 'the adjoint' : 'vjp.onnx';
  if (!adjoint && !models.vjp) {
    try {
      models.vjp = deriveVjp(sessions, models.apply, card, abs);
    } catch (e) {
      sessions.close();
      throw new OnnxOperatorError(
        `operator folder ${abs}: has no ${candidate ? 'passing adjoint.onnx' : 'adjoint.onnx'} nor vjp.onnx, and the VJP of apply.onnx cannot be derived: ${(e as Error).message}; give vjp.onnx (x, v → g)`,
        { cause: e },
      );
    }
    source = 'derived from apply.onnx by reverse mode';
    if (card.linear) {
      // A linear map's VJP does not depend on x and is its adjoint: Aᵀy = (∂A/∂x)ᵀy at any x.
      const derived = models.vjp;
      adjoint = (y: Tensor, out?: Tensor): Tensor => {
        const n = batchOf(y, outShape, who, 'measurement y');
        return run('vjp', derived, { x: tensor([n, ...inShape]), v: y }, inShape, out);
      };
      source = 'the adjoint, derived from apply.onnx by reverse mode (a linear map’s VJP is its adjoint)';
      if (!opts.unverifiedAdjoint) {
        const err = adjointError({ inShape, outShape, apply, adjoint });
        if (!(err < ADJOINT_TOLERANCE)) {
          sessions.close();
          throw new OnnxOperatorError(
            `operator folder ${abs}: ${CARD_FILE} declares a linear operator, but the VJP derived from apply.onnx fails the adjoint test (relative error ${err.toExponential(2)} ≥ ${ADJOINT_TOLERANCE.toExponential(0)}): apply.onnx is not linear; declare "linear": false`,
          );
        }
        notes.push(`the derived adjoint passes the adjoint test (relative error ${err.toExponential(2)})`);
      }
    }
  }
  const vjpModel = models.vjp;
  const vjp = (x: Tensor, v: Tensor, out?: Tensor): Tensor => {
    const n = batchOf(x, inShape, who, 'input x');
    if (batchOf(v, outShape, who, 'cotangent v') !== n) throw new ShapeError(`${who}: x has batch ${n} but v has batch ${v.shape[0]}`);
    return adjoint ? adjoint(v, out) : run('vjp', vjpModel!, { x, v }, inShape, out);
  };
  notes.push(`VJP: ${source}`);
  return {
    id: ONNX_OPERATOR_ID,
    inShape,
    outShape,
    linear: card.linear,
    params: opts.params ?? { path: abs },
    artifacts: {},
    apply,
    ...(adjoint ? { adjoint } : {}),
    vjp,
    view: (y) => viewOf(y),
    dir: abs,
    card,
    models,
    provider: sessions.provider,
    notes,
    release: () => sessions.close(),
  };
}

/** Derives the VJP of apply.onnx wrt the card's input in the session thread, opened as model `vjp`. */
function deriveVjp(sessions: SyncSessions, apply: OperatorModel, card: OperatorCard, dir: string): OperatorModel {
  const d = sessions.derive('vjp', apply.bytes, card.input.name, join(dir, MODEL_FILES.apply));
  return { file: `${apply.file} (derived VJP)`, bytes: d.bytes, inputs: { x: card.input.name, v: d.cotangent }, output: d.grad, anyBatch: apply.anyBatch, derived: true };
}

/** Sample `i` of a batch, as a 1×… tensor sharing `t`'s memory. */
function sampleOf(t: Tensor, i: number): Tensor {
  const per = t.data.length / t.shape[0]!;
  return tensor([1, ...t.shape.slice(1)], t.data.subarray(i * per, (i + 1) * per));
}

/** y as an N×C′×H′×W′ picture: a 4-D y as it is, a lower-rank one with leading 1s (a sinogram N×A×D → N×1×A×D). */
function viewOf(y: Tensor): Tensor {
  const [n, ...rest] = y.shape;
  if (rest.length >= 3) return tensor([n!, rest[0]!, rest[1]!, rest.slice(2).reduce((a, b) => a * b, 1)], y.data);
  return tensor([n!, ...Array<number>(3 - rest.length).fill(1), ...rest], y.data);
}
