/**
 * The built-in operator `onnx-operator`: an ONNX operator folder (`path`) as a registry entry, so
 * a graph's OnnxOperator node, `lagrange simulate --operator` and a measurement bundle all build
 * it through `createOperator`. The instance records the folder and a digest of its files, so a
 * bundle rebuilds the operator it was made with and refuses a folder that changed since.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ForwardModel, OperatorSpec } from '../types';
import { CARD_FILE, OnnxOperatorError } from './card';
import { MODEL_FILES } from './files';
import type { OnnxForwardModel } from './load';
import { loadOnnxOperator, ONNX_OPERATOR_ID } from './load';
import { onnxOperatorParams } from '../../../nodes/operatorParams';
import { PROVIDER_ORDER, providerUnavailable } from '../../priors/onnxPrior';

/** sha-256 (hex) over operator.json and the .onnx files present, each with its name. */
export function folderDigest(dir: string): string {
  const h = createHash('sha256');
  for (const name of [CARD_FILE, ...Object.values(MODEL_FILES)]) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    h.update(`${name}\0`).update(readFileSync(file));
  }
  return h.digest('hex');
}

/** `onnx-operator`: A = the folder's apply.onnx, with the adjoint / VJP its files provide. */
export const onnxOperator: OperatorSpec<typeof onnxOperatorParams> = {
  id: ONNX_OPERATOR_ID,
  title: 'ONNX operator (folder)',
  summary: 'A(x) = apply.onnx of an operator folder (a learned or exported forward model)',
  doc:
    'A(x) from an ONNX operator folder: operator.json (the card: name, linear, input/output names and shapes) and apply.onnx; ' +
    'adjoint.onnx (linear only) is used as Aᵀ only if it passes the adjoint test when the folder loads; vjp.onnx (x, v → g) gives the VJP of a nonlinear operator. ' +
    'Without them the VJP is derived from apply.onnx by reverse mode (for a linear operator it is the adjoint, checked by the adjoint test). ' +
    'The image must have the card’s C×H×W. With --backend onnx the files are inlined into the fused iteration.',
  // Linearity and the adjoint come from the folder's card and files; a VJP is guaranteed (given, or derived from apply.onnx).
  linear: false,
  seeded: false,
  capabilities: ['vjp'],
  params: onnxOperatorParams,
  defaults: () => ({ provider: 'auto' as const }),
  create(p, ctx): ForwardModel {
    if (!p.path) throw new OnnxOperatorError(`operator ${ONNX_OPERATOR_ID}: parameter path: the operator folder (operator.json, apply.onnx, …) is required`);
    const dir = resolve(p.path);
    const digest = folderDigest(dir);
    if (p.digest !== undefined && p.digest !== digest) {
      throw new OnnxOperatorError(
        `operator folder ${dir}: its files changed since the measurement was made (digest ${digest.slice(0, 12)}…, recorded ${p.digest.slice(0, 12)}…); re-simulate it`,
      );
    }
    // The provider is where the sessions run, not what they compute: it stays out of the recorded params.
    const chosen = p.provider ?? 'auto';
    const why = chosen === 'auto' ? undefined : providerUnavailable(chosen);
    if (why) throw new OnnxOperatorError(`operator folder ${dir}: parameter provider: ${chosen} cannot run here: ${why}`);
    const providers = chosen === 'auto' ? PROVIDER_ORDER.filter((q) => !providerUnavailable(q)) : [chosen];
    return loadOnnxOperator(dir, { shape: ctx.shape, params: { path: dir, digest }, providers });
  },
};

/** Whether `op` is a loaded ONNX folder operator. */
export function isOnnxOperator(op: ForwardModel): op is OnnxForwardModel {
  return op.id === ONNX_OPERATOR_ID && typeof (op as Partial<OnnxForwardModel>).release === 'function';
}

/** Releases an operator's sessions if it holds any (ONNX folder operators); other operators hold none. */
export function releaseOperator(op: ForwardModel): void {
  if (isOnnxOperator(op)) op.release();
}
