/**
 * `lagrange models gradcheck | vjp`: the exact VJP of an ONNX network (src/engine/onnx/autodiff),
 * checked against central differences on random probes, or evaluated once on .npy inputs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Feed } from '../engine/onnx/autodiff';
import { countNonFinite, firstNonFinite, gradcheck, runModel, toOrt, vjpModel } from '../engine/onnx/autodiff';
import { modelSignature } from '../engine/onnx/inline';
import { readNpy, writeNpy } from '../engine/io/npy';
import { resolveModelDir } from '../engine/priors/catalog';
import { cardSchedule, readModelCard } from '../engine/priors/modelCard';
import { tensor } from '../engine/tensor/tensor';

/** Default worst relative error of `models gradcheck` (float32 networks, h = 1e-2 with Richardson). */
export const GRADCHECK_TOLERANCE = 1e-3;

/** A .onnx file as given, or a model folder / installed name: its network, image input and a mid-schedule timestep feed. */
function resolveNetwork(target: string): { file: string; wrt?: string[]; feeds: Record<string, Feed> } {
  if (existsSync(target) && statSync(target).isFile()) return { file: target, feeds: {} };
  const dir = resolveModelDir(target);
  const card = readModelCard(dir);
  const t = Math.floor(cardSchedule(card).T / 2) * card.timestep.scale;
  const tType = card.timestep.dtype === 'float32' ? 'float32' : 'int64';
  return { file: join(dir, card.files.model), wrt: [card.inputs.x], feeds: { [card.inputs.t]: { type: tType, dims: [1], data: [t] } } };
}

/** `models gradcheck`: per probe ⟨VJP, u⟩ against the central difference; `ok` when the worst error is within `tol`. */
export async function modelsGradcheck(target: string, o: { probes: number; seed: number; tol: number; step?: number; json?: boolean }): Promise<{ ok: boolean; lines: string[] }> {
  const net = resolveNetwork(target);
  const r = await gradcheck(readFileSync(net.file), { file: net.file, wrt: net.wrt, feeds: net.feeds, probes: o.probes, seed: o.seed, step: o.step });
  const ok = r.worst <= o.tol;
  if (o.json)
    return {
      ok,
      lines: [JSON.stringify({ model: net.file, wrt: r.wrt, probes: r.probes, worst: r.worst, tolerance: o.tol, ok, ...(r.nonFinite ? { nonFinite: r.nonFinite } : {}) })],
    };
  return {
    ok,
    lines: [
      `${net.file}: VJP with respect to ${r.wrt.join(', ')} against central differences (${r.probes.length} random probes)`,
      ...r.probes.map((p, i) => `  probe ${i}: ⟨VJP, u⟩ = ${p.vjp.toPrecision(8)}, difference quotient ${p.fd.toPrecision(8)}, relative error ${p.relErr.toExponential(2)}`),
      `  worst relative error ${r.worst.toExponential(2)} (tolerance ${o.tol}): ${ok ? 'ok' : 'FAILED'}`,
      ...(r.nonFinite ? [`  ${r.nonFinite.message}`] : []),
    ],
  };
}

/** `models vjp`: (∂y/∂x)ᵀ v for the inputs `name=file.npy`, written to `out` (.npy, float32). */
export async function modelsVjp(model: string, o: { input: string[]; cotangent: string; out: string; wrt?: string }): Promise<string[]> {
  const bytes = readFileSync(model);
  const sig = modelSignature(bytes);
  const feeds: Record<string, Feed> = {};
  for (const spec of o.input) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`--input ${spec}: expected <name>=<file.npy>`);
    const name = spec.slice(0, eq);
    const info = sig.inputs.find((i) => i.name === name);
    if (!info) throw new Error(`--input ${name}: ${model} has no input '${name}' (inputs: ${sig.inputs.map((i) => i.name).join(', ')})`);
    const t = readNpy(spec.slice(eq + 1), { integers: 'values' });
    feeds[name] = { type: info.elemType === 7 ? 'int64' : 'float32', dims: t.shape, data: t.data };
  }
  const missing = sig.inputs.filter((i) => !feeds[i.name]).map((i) => i.name);
  if (missing.length) throw new Error(`${model}: no --input for ${missing.join(', ')}`);
  const wrt = o.wrt ?? sig.inputs.find((i) => i.elemType === 1)?.name;
  if (!wrt) throw new Error(`${model}: no float32 input to differentiate`);
  const d = await vjpModel(bytes, wrt, { file: model });
  const v = readNpy(o.cotangent);
  const all: Record<string, Feed> = { ...feeds, [d.cotangent]: { type: 'float32', dims: v.shape, data: v.data } };
  const [res] = await runModel(d.bytes, [all]);
  const g = res![d.grads[wrt]!]!;
  const bad = countNonFinite(g.data);
  if (bad.nan + bad.inf) {
    // Written nowhere: a NaN gradient is a fault to find, and the trace says where it began.
    const site = await firstNonFinite(bytes, wrt, Object.fromEntries(Object.entries(all).map(([k, f]) => [k, toOrt(f)])), { file: model });
    throw new Error(
      `${model}: (∂${d.output}/∂${wrt})ᵀ v has ${bad.nan} NaN and ${bad.inf} infinite entries; ${site ? site.message.slice(model.length + 2) : 'no backward step is non-finite on its own'}. ${o.out} not written`,
    );
  }
  writeNpy(o.out, tensor(g.dims, Float32Array.from(g.data)));
  return [`wrote ${o.out}: (∂${d.output}/∂${wrt})ᵀ v, shape [${g.dims.join(', ')}]`];
}
