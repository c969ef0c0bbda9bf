/**
 * Where a NaN or Inf in a derived VJP comes from. A non-finite gradient says nothing about its
 * cause: Sqrt at 0, Log at 0, Div by 0 or an overflowing Exp anywhere in the network all end as
 * the same NaN in `grad_x`. So, only once an output is found non-finite, the VJP is derived again
 * with every cotangent exposed (`VjpOptions.trace`), run on the same feeds, and the backward
 * steps are read in the order they were computed: the first step whose output is non-finite is
 * the op where it appeared (its own output cotangent was still finite, or an earlier step would
 * have been first).
 */
import * as ort from 'onnxruntime-node';
import { readModel, VjpError } from './graph';
import type { VjpOptions } from './vjp';
import { vjpModel } from './vjp';

/** The backward step where a non-finite value first appeared. */
export interface NonFiniteSite {
  /** Forward node name and op type whose VJP rule produced it. */
  node: string;
  op: string;
  /** The forward input whose cotangent it is. */
  input: string;
  /** Entries that are NaN, ±Inf, and the entry count. */
  nan: number;
  inf: number;
  size: number;
  /** One line naming all of the above. */
  message: string;
}

const isFloat = (t: ort.Tensor): boolean => t.type === 'float32' || t.type === 'float64';

/** Number of NaN and ±Inf entries of a float array. */
export function countNonFinite(data: ArrayLike<number>): { nan: number; inf: number } {
  let nan = 0,
    inf = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
  }
  return { nan, inf };
}

const describe = (nan: number, inf: number): string => [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean).join(' and ');

/**
 * The op of `model` (ModelProto bytes, differentiated as `vjpModel(model, wrt, opts)`) where the
 * VJP's first non-finite value on `feeds` (the forward inputs and the cotangent, under the name
 * the VJP model gives it) appeared; undefined when every cotangent is finite. That is the first
 * backward step with a non-finite cotangent, unless the forward values that step reads are
 * already non-finite (a Log at 0 feeding a MatMul): then it is the first forward node whose
 * output is (an Inf the forward absorbs, such as a −∞ attention mask, is not blamed).
 * @throws VjpError when an input or the cotangent fed in is itself non-finite (nothing in the model to blame)
 */
export async function firstNonFinite(
  model: Uint8Array,
  wrt: string | readonly string[],
  feeds: Readonly<Record<string, ort.Tensor>>,
  opts: VjpOptions = {},
): Promise<NonFiniteSite | undefined> {
  const file = opts.file ?? 'model';
  const inputs = new Set(readModel(model, file).inputs.map((i) => i.name));
  for (const [name, t] of Object.entries(feeds)) {
    const c = isFloat(t) ? countNonFinite(t.data as Float32Array) : { nan: 0, inf: 0 };
    const what = inputs.has(name) ? `input '${name}'` : `the cotangent '${name}'`;
    if (c.nan + c.inf) throw new VjpError(`${file}: ${what} fed to the VJP has ${c.nan} NaN and ${c.inf} infinite entries of ${t.size}, so every gradient after it is`);
  }
  const d = await vjpModel(model, wrt, { ...opts, trace: true });
  const session = await ort.InferenceSession.create(d.bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  let outputs: ort.InferenceSession.OnnxValueMapType;
  try {
    outputs = await session.run({ ...feeds });
  } finally {
    await session.release();
  }
  const bad = (value: string): { nan: number; inf: number; size: number } | undefined => {
    const t = outputs[value];
    if (!t || !isFloat(t)) return undefined;
    const c = countNonFinite(t.data as Float32Array);
    return c.nan + c.inf ? { ...c, size: t.size } : undefined;
  };
  const forward = d.traceForward ?? [];
  const produced = new Map(forward.flatMap((f) => f.outputs.map((o) => [o, f] as const)));
  for (const step of d.trace ?? [])
    for (const { input, output } of step.grads) {
      const c = bad(output);
      if (!c) continue;
      const fwd = forward.find((f) => f.node === step.node);
      const reads = [...(fwd?.inputs ?? []), ...(fwd?.outputs ?? [])].filter((v) => produced.has(v));
      if (reads.some((v) => bad(v))) {
        // The forward is already non-finite here: blame the first forward node that made it so.
        for (const f of forward)
          for (const o of f.outputs) {
            const b = bad(o);
            if (!b) continue;
            const message = `${file}: the gradient is non-finite because the forward pass is: node ${f.node} (${f.op}) first outputs ${describe(b.nan, b.inf)} entries of ${b.size} in '${o}' from finite inputs, and the backward of node ${step.node} (${step.op}) reads it`;
            return { node: f.node, op: f.op, input: f.inputs[0] ?? '', ...b, message };
          }
      }
      const message = `${file}: the gradient first becomes non-finite at node ${step.node} (${step.op}): the cotangent of its input '${input}' has ${describe(c.nan, c.inf)} entries of ${c.size}, while the cotangent of its output is finite`;
      return { node: step.node, op: step.op, input, ...c, message };
    }
  return undefined;
}
