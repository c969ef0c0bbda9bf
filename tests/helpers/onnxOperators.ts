/**
 * ONNX operator folders for tests, built with the project's ONNX builder: a 'same' zero-padded
 * convolution by a seeded random, asymmetric k×k kernel (apply.onnx, Conv) with its transpose
 * (adjoint.onnx, ConvTranspose by the same kernel), and a broken twin whose adjoint.onnx is the
 * convolution again (equal to the transpose only for a point-symmetric kernel, which a random one
 * is not). Tensor names are deliberately not x/y, so every consumer has to follow the card.
 *
 * Also runnable: `npx tsx tests/helpers/onnxOperators.ts <dir>` writes good/ and broken/ there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f32, GraphBuilder, ModelProto } from '../../src/engine/onnx/builder';
import { createRng } from '../../src/engine/tensor/rng';

/** The fixture's geometry and names. */
export interface ConvFixture {
  channels: number;
  size: number;
  kernel: number;
  seed: number;
  input: string;
  output: string;
}

/** 1×32×32 (the fmnist-32 prior's images), 5×5 kernel, seed 7. */
export const CONV_FIXTURE: ConvFixture = { channels: 1, size: 32, kernel: 5, seed: 7, input: 'image', output: 'blurred' };

/** The kernel: positive, normalised to sum 1 (a blur), seeded; [C, 1, k, k] for a depthwise Conv. */
export function convKernel(f: ConvFixture = CONV_FIXTURE): Float32Array {
  const rng = createRng(f.seed, 'fixture/conv-kernel');
  const k = Float64Array.from({ length: f.kernel * f.kernel }, () => 0.05 + rng.uniform());
  const sum = k.reduce((a, b) => a + b, 0);
  const one = Float32Array.from(k, (v) => v / sum);
  const all = new Float32Array(f.channels * one.length);
  for (let c = 0; c < f.channels; c++) all.set(one, c * one.length);
  return all;
}

function convModel(f: ConvFixture, op: 'Conv' | 'ConvTranspose', from: string, to: string): Uint8Array {
  const g = new GraphBuilder(`fixture.${op}`);
  const dims = ['N', f.channels, f.size, f.size];
  const r = (f.kernel - 1) / 2;
  const w = g.constant(f32([f.channels, 1, f.kernel, f.kernel], convKernel(f)), 'weight');
  const y = g.node(op, [g.input(from, dims), w], { pads: { ints: [r, r, r, r] }, group: { i: f.channels } });
  g.output(y, to, dims);
  return g.toBytes(`test fixture: ${op} by a ${f.kernel}×${f.kernel} seeded kernel`);
}

/** The card of a fixture folder. */
export function convCard(f: ConvFixture = CONV_FIXTURE, name = 'conv5'): Record<string, unknown> {
  return {
    format: 'lagrange-operator',
    version: 1,
    name,
    title: `${f.kernel}×${f.kernel} random blur`,
    doc: `'same' zero-padded convolution by a seeded random ${f.kernel}×${f.kernel} kernel (test fixture)`,
    linear: true,
    input: { name: f.input, shape: ['N', f.channels, f.size, f.size] },
    output: { name: f.output, shape: ['N', f.channels, f.size, f.size] },
  };
}

/** The three files of a fixture folder: card, apply (Conv) and adjoint (ConvTranspose, or Conv when broken). */
export function convFiles(f: ConvFixture = CONV_FIXTURE, broken = false): { card: Record<string, unknown>; apply: Uint8Array; adjoint: Uint8Array } {
  return {
    card: convCard(f, broken ? 'conv5-broken' : 'conv5'),
    apply: convModel(f, 'Conv', f.input, f.output),
    adjoint: convModel(f, broken ? 'Conv' : 'ConvTranspose', f.output, f.input),
  };
}

/** Writes a fixture folder into `dir`; returns `dir`. */
export function writeConvOperator(dir: string, opts: { broken?: boolean; fixture?: ConvFixture; card?: (card: Record<string, unknown>) => Record<string, unknown> } = {}): string {
  const files = convFiles(opts.fixture, opts.broken);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'operator.json'), JSON.stringify(opts.card ? opts.card(files.card) : files.card, null, 2) + '\n');
  writeFileSync(join(dir, 'apply.onnx'), files.apply);
  writeFileSync(join(dir, 'adjoint.onnx'), files.adjoint);
  return dir;
}

/**
 * A nonlinear twin: apply y = tanh(k ⋆ x) and vjp.onnx g = kᵀ ⋆ (v ⊙ (1 − tanh²(k ⋆ x))), with the
 * cotangent and gradient under the card's default names `v` and `g`.
 */
export function writeTanhConvOperator(dir: string, f: ConvFixture = CONV_FIXTURE): string {
  const dims = ['N', f.channels, f.size, f.size];
  const r = (f.kernel - 1) / 2;
  const conv = (g: GraphBuilder, op: 'Conv' | 'ConvTranspose', x: string): string =>
    g.node(op, [x, g.constant(f32([f.channels, 1, f.kernel, f.kernel], convKernel(f)))], { pads: { ints: [r, r, r, r] }, group: { i: f.channels } });
  const a = new GraphBuilder('fixture.tanh-conv');
  a.output(a.node('Tanh', [conv(a, 'Conv', a.input(f.input, dims))]), f.output, dims);
  const v = new GraphBuilder('fixture.tanh-conv.vjp');
  const t = v.node('Tanh', [conv(v, 'Conv', v.input(f.input, dims))]);
  const dt = v.node('Sub', [v.scalar(1), v.node('Mul', [t, t])]);
  v.output(conv(v, 'ConvTranspose', v.node('Mul', [v.input('v', dims), dt])), 'g', dims);
  mkdirSync(dir, { recursive: true });
  const card = { ...convCard(f, 'tanh-conv5'), linear: false, title: 'tanh of a random blur', doc: 'y = tanh(k ⋆ x) (test fixture)' };
  writeFileSync(join(dir, 'operator.json'), JSON.stringify(card, null, 2) + '\n');
  writeFileSync(join(dir, 'apply.onnx'), a.toBytes('test fixture: tanh of a convolution'));
  writeFileSync(join(dir, 'vjp.onnx'), v.toBytes('test fixture: its VJP'));
  return dir;
}

/** `model` with graph input `name` retyped to ONNX element type `elemType` (e.g. 11, float64): a file that disagrees with its card. */
export function retypeInput(model: Uint8Array, name: string, elemType: number): Uint8Array {
  const m = ModelProto.toObject(ModelProto.decode(model), { longs: Number }) as { graph: { input: { name: string; type: { tensorType: { elemType: number } } }[] } };
  const input = m.graph.input.find((i) => i.name === name);
  if (!input) throw new Error(`no input ${name}`);
  input.type.tensorType.elemType = elemType;
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

if (process.argv[1]?.endsWith('onnxOperators.ts') && process.argv[2]) {
  const root = process.argv[2];
  writeConvOperator(join(root, 'good'));
  writeConvOperator(join(root, 'broken'), { broken: true });
  console.log(`wrote ${join(root, 'good')} and ${join(root, 'broken')}`);
}
