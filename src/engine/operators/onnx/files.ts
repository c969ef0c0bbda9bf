/**
 * The .onnx files of an operator folder, each read with the project's ModelProto decoder
 * (`modelSignature`) and checked against the card before any session opens: tensor names,
 * element type float32, and shapes (a symbolic batch dimension where the card says "N").
 * Refusals name the file and what the card expects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType } from '../../onnx/builder';
import type { ModelValue } from '../../onnx/inline';
import { modelSignature } from '../../onnx/inline';
import type { OperatorCard } from './card';
import { CARD_FILE, OnnxOperatorError, vjpNames } from './card';

/** The model files of a folder, by role. */
export const MODEL_FILES = { apply: 'apply.onnx', adjoint: 'adjoint.onnx', vjp: 'vjp.onnx' } as const;

/** A model role: x → y, y → x, (x, v) → g. */
export type ModelRole = keyof typeof MODEL_FILES;

/** One checked model: its bytes and the names of its inputs (by role in the signature) and output. */
export interface OperatorModel {
  readonly file: string;
  readonly bytes: Uint8Array;
  /** Input tensor names: `x` (apply, vjp), `y` (adjoint), `v` (vjp). */
  readonly inputs: Readonly<Record<string, string>>;
  readonly output: string;
  /** Whether the model takes any batch (symbolic first dimension) or exactly 1. */
  readonly anyBatch: boolean;
  /** A VJP derived from apply.onnx by reverse mode (`onnx/autodiff`), not a file of the folder. */
  readonly derived?: boolean;
}

/** The folder's checked models; `adjoint` and `vjp` only where their files exist. */
export type OperatorModels = { apply: OperatorModel } & Partial<Record<'adjoint' | 'vjp', OperatorModel>>;

type Declared = readonly (string | number)[];
interface Port {
  role: string;
  name: string;
  shape: Declared;
}

const TYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 10: 'float16', 11: 'float64', 16: 'bfloat16' };
const typeName = (t: number): string => TYPE_NAMES[t] ?? `ONNX type ${t}`;
const dimsText = (d: readonly (string | number)[]): string => `[${d.map((v) => (typeof v === 'string' ? JSON.stringify(v) : v)).join(', ')}]`;

/** Why `got` does not have the declared shape, or undefined. A declared "N" accepts any symbolic dimension. */
function shapeProblem(declared: Declared, got: ModelValue): string | undefined {
  const ok = got.dims.length === declared.length && declared.every((d, i) => (typeof d === 'string' ? typeof got.dims[i] === 'string' : got.dims[i] === d));
  return ok ? undefined : `has shape ${dimsText(got.dims)}, the card declares ${dimsText(declared)}`;
}

function checkValues(file: string, what: 'input' | 'output', want: readonly Port[], got: readonly ModelValue[]): void {
  const names = got.map((v) => v.name);
  if (got.length !== want.length || want.some((p) => !names.includes(p.name))) {
    const expected = want.map((p) => `'${p.name}' (${p.role})`).join(', ');
    throw new OnnxOperatorError(`${file}: ${what}s are ${names.map((n) => `'${n}'`).join(', ') || 'none'}; ${CARD_FILE} needs exactly ${expected}`);
  }
  for (const p of want) {
    const v = got.find((g) => g.name === p.name)!;
    if (v.elemType !== DataType.FLOAT) throw new OnnxOperatorError(`${file}: ${what} '${p.name}' is ${typeName(v.elemType)}; operators take and give float32`);
    const why = shapeProblem(p.shape, v);
    if (why) throw new OnnxOperatorError(`${file}: ${what} '${p.name}' (${p.role}) ${why} in ${CARD_FILE}`);
  }
}

/** Reads `file` and checks its signature: `inputs` and `output` as the card declares them. */
function checkedModel(file: string, inputs: readonly Port[], output: Port): OperatorModel {
  const bytes = readFileSync(file);
  let sig: ReturnType<typeof modelSignature>;
  try {
    sig = modelSignature(bytes);
  } catch (e) {
    throw new OnnxOperatorError(`${file}: not an ONNX model (${(e as Error).message})`, { cause: e });
  }
  checkValues(file, 'input', inputs, sig.inputs);
  checkValues(file, 'output', [output], sig.outputs);
  const roles = Object.fromEntries(inputs.map((p) => [p.role, p.name]));
  const anyBatch = typeof inputs[0]!.shape[0] === 'string';
  return { file, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), inputs: roles, output: output.name, anyBatch };
}

/**
 * Reads and checks the folder's models against `card`: apply.onnx (required), adjoint.onnx
 * (linear operators only) and vjp.onnx.
 * @throws OnnxOperatorError naming the file: missing apply.onnx, an adjoint of a nonlinear
 *   operator, an input/output whose name, element type or shape differs from the card's
 */
export function readOperatorModels(dir: string, card: OperatorCard): OperatorModels {
  const x: Port = { role: 'x', name: card.input.name, shape: card.input.shape };
  const y: Port = { role: 'y', name: card.output.name, shape: card.output.shape };
  const path = (role: ModelRole): string => join(dir, MODEL_FILES[role]);
  if (!existsSync(path('apply'))) throw new OnnxOperatorError(`${path('apply')}: missing; an operator folder needs apply.onnx (${card.input.name} → ${card.output.name})`);
  const models: OperatorModels = { apply: checkedModel(path('apply'), [x], y) };
  if (existsSync(path('adjoint'))) {
    if (!card.linear) throw new OnnxOperatorError(`${path('adjoint')}: ${join(dir, CARD_FILE)} declares a nonlinear operator, which has no adjoint; give vjp.onnx instead`);
    models.adjoint = checkedModel(path('adjoint'), [{ ...y, role: 'y' }], { ...x, role: 'x' });
  }
  if (existsSync(path('vjp'))) {
    const n = vjpNames(card);
    models.vjp = checkedModel(path('vjp'), [x, { role: 'v', name: n.cotangent, shape: card.output.shape }], { role: 'g', name: n.output, shape: card.input.shape });
  }
  return models;
}
