/**
 * `lagrange operators check <dir>` for an ONNX operator folder: the card and every model checked
 * against it, then the conformance suite (`checkOperator`: shapes, relative adjoint error, VJP
 * against central differences, determinism, output buffers) on the folder's own files. The
 * adjoint is checked as the candidate it is, so a wrong adjoint.onnx fails by name here rather
 * than being dropped as it is when a run loads the folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkOperator } from '../engine/operators/check';
import type { CheckResult } from '../engine/operators/check';
import { CARD_FILE } from '../engine/operators/onnx/card';
import { loadOnnxOperator } from '../engine/operators/onnx/load';
import { shapeStr } from '../engine/tensor/tensor';

/** Whether `target` names an operator folder (it holds operator.json) rather than a registered operator. */
export function isOperatorFolder(target: string): boolean {
  return existsSync(join(target, CARD_FILE));
}

/** The outcome of {@link checkOperatorFolder}: the lines to print and, on failure, the first failing property. */
export interface FolderCheck {
  ok: boolean;
  lines: string[];
  /** `<property>: <message>` of the first failure (a refused card or file is property `load`). */
  failure?: string;
  result?: CheckResult;
}

/** Loads the folder (adjoint unverified, so the suite judges it) and runs `checkOperator` on it. */
export function checkOperatorFolder(dir: string, json = false): FolderCheck {
  let op: ReturnType<typeof loadOnnxOperator>;
  try {
    op = loadOnnxOperator(dir, { unverifiedAdjoint: true });
  } catch (e) {
    const failure = `load: ${(e as Error).message}`;
    return { ok: false, lines: json ? [JSON.stringify({ ok: false, dir, failure })] : [`✗ ${failure}`], failure };
  }
  try {
    const result = checkOperator(op);
    const failed = result.checks.find((c) => !c.ok);
    const failure = failed && `${failed.name}: ${failed.message}`;
    if (json) return { ok: result.ok, lines: [JSON.stringify({ ok: result.ok, dir: op.dir, name: op.card.name, checks: result.checks })], result, ...(failure ? { failure } : {}) };
    const files = Object.values(op.models).map((m) => m.file.split(/[\\/]/).pop());
    const lines = [
      `operator ${op.card.name} (${op.dir}): ${op.linear ? 'linear' : 'nonlinear'}, ${shapeStr(op.inShape)} → ${shapeStr(op.outShape)}, ${files.join(', ')}, on ${op.provider}`,
      ...result.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.message}`),
      result.ok ? 'ok: the operator passes every check that applies' : `failed: ${result.checks.filter((c) => !c.ok).length} of ${result.checks.length} checks`,
    ];
    return { ok: result.ok, lines, result, ...(failure ? { failure } : {}) };
  } finally {
    op.release();
  }
}
