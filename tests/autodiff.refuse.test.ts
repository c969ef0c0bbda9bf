/**
 * What the VJP builder refuses up front, with the node, op, tensor or input named; and what it
 * accepts around it (a non-differentiable branch off the path, the forward output kept).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ModelProto } from '../src/engine/onnx/builder';
import { runModel, vjpModel, VjpError } from '../src/engine/onnx/autodiff';

const ROOT = new URL('..', import.meta.url).pathname;
const unet = readFileSync(`${ROOT}resources/models/fmnist-32/model.onnx`);

/** Re-encodes `bytes` after `edit` changes the decoded ModelProto. */
interface RawModel {
  graph: { node: object[]; initializer: object[] };
  opsetImport: { domain: string; version: number }[];
}

function patched(bytes: Uint8Array, edit: (m: RawModel) => void): Uint8Array {
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true }) as RawModel;
  edit(m);
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

function chain(op: string): Uint8Array {
  const g = new GraphBuilder('test.refuse');
  const x = g.input('x', [2, 3]);
  const t = g.input('t', [2, 3]);
  g.output(g.node('Add', [g.node('Tanh', [x]), g.node(op, [t])]), 'y', [2, 3]);
  return g.toBytes();
}

describe('vjpModel refusals', () => {
  it('names an op without a rule on the differentiable path, and accepts it off the path', async () => {
    await expect(vjpModel(chain('HardSigmoid'), ['x', 't'])).rejects.toThrow(/no VJP rule for HardSigmoid \(node HardSigmoid_1\)/);
    const d = await vjpModel(chain('HardSigmoid'), 'x');
    const [r] = await runModel(d.bytes, [
      {
        x: { type: 'float32', dims: [2, 3], data: [0, 0, 0, 0, 0, 0] },
        t: { type: 'float32', dims: [2, 3], data: [1, 2, 3, 4, 5, 6] },
        v: { type: 'float32', dims: [2, 3], data: [1, 2, 3, 4, 5, 6] },
      },
    ]);
    expect(Array.from(r!.grad_x!.data)).toEqual([1, 2, 3, 4, 5, 6]); // tanh′(0) = 1
  });

  it('refuses control flow, external data, other opsets and domains before running anything', async () => {
    const ifModel = patched(chain('Neg'), (m) => m.graph.node.push({ opType: 'If', name: 'branch', input: ['x'], output: ['z'] }));
    await expect(vjpModel(ifModel, 'x')).rejects.toThrow(/node branch \(If\): control flow/);
    const external = patched(chain('Neg'), (m) => m.graph.initializer.push({ name: 'w', dims: [1], dataType: 1, dataLocation: 1 }));
    await expect(vjpModel(external, 'x')).rejects.toThrow(/tensor 'w' is stored in an external data file/);
    await expect(
      vjpModel(
        patched(chain('Neg'), (m) => (m.opsetImport = [{ domain: '', version: 11 }])),
        'x',
      ),
    ).rejects.toThrow(/opset 11; the VJP rules implement opsets 13–17/);
    await expect(
      vjpModel(
        patched(chain('Neg'), (m) => m.opsetImport.push({ domain: 'com.microsoft', version: 1 })),
        'x',
      ),
    ).rejects.toThrow(/operator domain 'com.microsoft'/);
  });

  it.each(['Loop', 'Scan'])('refuses %s (dynamic control flow) even off the differentiable path', async (op) => {
    const m = patched(chain('Neg'), (raw) => raw.graph.node.push({ opType: op, name: 'iterate', input: ['t'], output: ['w'] }));
    await expect(vjpModel(m, 'x', { file: 'loop.onnx' })).rejects.toThrow(
      new RegExp(`loop\\.onnx: node iterate \\(${op}\\): control flow \\(If/Loop/Scan\\) cannot be differentiated`),
    );
  });

  it('refuses a subgraph attribute and a Constant whose value lies in an external file', async () => {
    const sub = patched(chain('Neg'), (m) =>
      m.graph.node.push({ opType: 'Custom', name: 'nested', input: ['x'], output: ['z'], attribute: [{ name: 'body', type: 5, g: { name: 'b' } }] }),
    );
    await expect(vjpModel(sub, 'x')).rejects.toThrow(/node nested \(Custom\): attribute 'body' holds a subgraph/);
    const constant = patched(chain('Neg'), (m) =>
      m.graph.node.unshift({
        opType: 'Constant',
        name: 'weights',
        output: ['c'],
        attribute: [{ name: 'value', type: 4, t: { name: 'c', dims: [3], dataType: 1, dataLocation: 1 } }],
      }),
    );
    await expect(vjpModel(constant, 'x')).rejects.toThrow(/node weights \(Constant\): tensor 'c' is stored in an external data file/);
  });

  it('refuses an output reached from the input only through a cast to integers, naming the cast', async () => {
    const g = new GraphBuilder('test.cast');
    const x = g.input('x', [2, 3]);
    const q = g.node('Cast', [g.node('Cast', [g.node('Mul', [x, g.scalar(8)])], { to: { i: 7 } })], { to: { i: 1 } });
    g.output(g.node('Tanh', [q]), 'y', [2, 3]);
    await expect(vjpModel(g.toBytes(), 'x')).rejects.toThrow(
      /output 'y' does not depend differentiably on x: every path passes through integer values or ops without a gradient \(Cast Cast_\d+\)/,
    );
  });

  it('refuses an output reached only through integer values, and non-float inputs', async () => {
    const g = new GraphBuilder('test.int');
    const x = g.input('x', [2, 3]);
    g.output(g.node('Mul', [g.node('Cast', [g.node('Shape', [x])], { to: { i: 1 } }), g.scalar(2)]), 'y', [2]);
    const err = await vjpModel(g.toBytes(), 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VjpError);
    expect((err as Error).message).toMatch(/does not depend differentiably on x: every path passes through integer values .*Shape Shape_0/);
    await expect(vjpModel(unet, 't', { file: 'fmnist-32' })).rejects.toThrow(/fmnist-32: input 't' has ONNX element type 7; only float32 inputs are differentiated/);
    await expect(vjpModel(unet, 'z', { file: 'fmnist-32' })).rejects.toThrow(/no graph input 'z' \(inputs: x, t\)/);
  });

  it('reads constant axes from Constant nodes with value_ints', async () => {
    const g = new GraphBuilder('test.constant');
    const x = g.input('x', [2, 3]);
    const axes = g.node('Constant', [], { value_ints: { ints: [1] } });
    g.output(g.node('ReduceSum', [g.node('Mul', [x, x]), axes], { keepdims: { i: 0 } }), 'y', [2]);
    const d = await vjpModel(g.toBytes(), 'x');
    const [r] = await runModel(d.bytes, [{ x: { type: 'float32', dims: [2, 3], data: [1, 2, 3, 4, 5, 6] }, v: { type: 'float32', dims: [2], data: [1, -1] } }]);
    expect(Array.from(r!.grad_x!.data)).toEqual([2, 4, 6, -8, -10, -12]); // 2x·v per row
  });

  it('keeps the forward output in the same model when asked, equal to the model run alone', async () => {
    const d = await vjpModel(unet, 'x', { keepOutput: true });
    const x = { type: 'float32' as const, dims: [1, 1, 32, 32], data: Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i)) };
    const t = { type: 'int64' as const, dims: [1], data: [250] };
    const [both] = await runModel(d.bytes, [{ x, t, [d.cotangent]: x }]);
    const [alone] = await runModel(unet, [{ x, t }]);
    expect(Array.from(both!.eps!.data)).toEqual(Array.from(alone!.eps!.data));
    expect(both!.grad_x!.dims).toEqual([1, 1, 32, 32]);
  });
});
