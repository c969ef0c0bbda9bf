/**
 * The card of an ONNX operator folder, `operator.json`: what the operator is (name, linear or
 * not) and what its models take and give (tensor names, shapes with a batch dimension first).
 * Strict: an unknown key is refused, naming the file and the key, so a misspelt field never goes
 * unnoticed.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../../io/json';

/** Raised for an operator folder that cannot be used; the message names the folder or file. */
export class OnnxOperatorError extends Error {
  override name = 'OnnxOperatorError';
}

/** The card's file name inside the folder. */
export const CARD_FILE = 'operator.json';

const dim = z
  .number()
  .int()
  .min(1)
  .max(1 << 20);
/** The batch dimension: symbolic (`"N"`, any batch) or fixed 1 (the model is run once per sample). */
const batch = z.union([z.literal('N'), z.literal(1)], { error: 'the first dimension is the batch: "N" (any batch) or 1' });

const tensorSchema = <S extends z.ZodType>(what: string, shape: S) => z.strictObject({ name: z.string().min(1, `${what} needs a tensor name`), shape });

/** Schema of `operator.json`. */
export const operatorCardSchema = z.strictObject({
  format: z.literal('lagrange-operator', { error: "expected 'lagrange-operator' (the card of an ONNX operator folder)" }),
  version: z.literal(1, { error: 'expected 1 (the only version of the operator card)' }),
  name: z.string().min(1),
  title: z.string().optional(),
  doc: z.string().optional(),
  /** Linear operators may ship adjoint.onnx; their VJP is the adjoint. */
  linear: z.boolean(),
  /** The image x: N×C×H×W, the shape a graph's image must have. */
  input: tensorSchema('input', z.tuple([batch, dim, dim, dim])),
  /** The measurement y: N × any per-sample shape. */
  output: tensorSchema(
    'output',
    z.tuple([batch], dim).refine((s) => s.length >= 2, 'the output needs a per-sample shape after the batch dimension'),
  ),
  /** Names in vjp.onnx: (x, cotangent) → output; default `v` and `g`. */
  vjp: z.strictObject({ cotangent: z.string().min(1).default('v'), output: z.string().min(1).default('g') }).optional(),
});

/** A parsed operator card. */
export type OperatorCard = z.infer<typeof operatorCardSchema>;

/** Reads and validates `<dir>/operator.json`; errors name the file and the JSON path. */
export function readOperatorCard(dir: string): OperatorCard {
  return readJsonFile(
    join(dir, CARD_FILE),
    operatorCardSchema,
    (m) => new OnnxOperatorError(m),
    `an ONNX operator folder holds ${CARD_FILE} (format "lagrange-operator") and apply.onnx; see src/engine/operators/onnx/README.md`,
  );
}

/** The names vjp.onnx is read with. */
export function vjpNames(card: OperatorCard): { cotangent: string; output: string } {
  return { cotangent: card.vjp?.cotangent ?? 'v', output: card.vjp?.output ?? 'g' };
}
