/**
 * Executors of the Encoder and Decoder node kinds (src/nodes/latent.ts). Each node's network is
 * opened at its first iteration and kept for the process, one session per folder, role and
 * provider, so a K-iteration loop pays the load (and the decoder's VJP derivation) once.
 */
import type { ResolvedSchedule } from '../compile/schedule';
import type { MeasurementValue } from '../kernels/updates';
import { dataResidual } from '../kernels/updates';
import type { Tensor } from '../tensor/tensor';
import { sizeOf, tensor } from '../tensor/tensor';
import type { AutoencoderNet } from '../priors/autoencoder';
import { loadAutoencoderNet } from '../priors/autoencoder';
import { latentModelDir } from '../priors/latentPrior';
import type { ExecutionProvider } from '../priors/onnxPrior';
import { decoder, encoder, latentXUpdate } from '../../nodes/index';
import { bind } from './bind';
import type { Executor, StepContext } from './executors';

const nets = new Map<string, Promise<AutoencoderNet>>();

/** The encoder or decoder a node's parameters name, opened once per folder, role and provider. */
export function latentNet(params: Record<string, unknown>, role: 'encoder' | 'decoder'): Promise<AutoencoderNet> {
  const dir = latentModelDir(params);
  const provider = (params.provider as 'auto' | ExecutionProvider | undefined) ?? 'auto';
  const key = `${role}\n${provider}\n${dir}`;
  let net = nets.get(key);
  if (!net) {
    net = loadAutoencoderNet(dir, role, provider === 'auto' ? {} : { providers: [provider] });
    // A failed load is not cached: the next run tries again (the folder may have been fixed).
    net.catch(() => nets.delete(key));
    nets.set(key, net);
  }
  return net;
}

/**
 * The network of {@link latentNet} for a step: each forward and VJP is counted into the run
 * report's `calls` (`encoder`, `decoder`, `decoderVjp`), so a run says what it cost beyond NFE.
 */
export async function countedNet(ctx: StepContext, role: 'encoder' | 'decoder'): Promise<AutoencoderNet> {
  const net = await latentNet(ctx.params, role);
  const vjp = net.vjp;
  return {
    ...net,
    run: (input) => (ctx.tally?.(role), net.run(input)),
    ...(vjp ? { vjp: (z: Tensor, v: Tensor) => (ctx.tally?.(`${role}Vjp`), vjp(z, v)) } : {}),
  };
}

/** Releases every cached encoder and decoder session (tests, a host shutting down). */
export async function releaseLatentNets(): Promise<void> {
  const all = [...nets.values()];
  nets.clear();
  for (const n of all) await (await n.catch(() => undefined))?.release();
}

/** A node's failure as an error naming it, its kind and the port concerned. */
function failOn(ctx: StepContext, kind: string, e: unknown): never {
  throw new Error(`node "${ctx.node}" (${kind}): ${(e as Error).message}`);
}

/** Parameters of {@link latentGradientStep}, as LatentXUpdate declares them. */
export interface LatentStepParams {
  gamma0: number;
  normalize: boolean;
  tGamma: number;
  a: number;
  b: number;
}

/**
 * LatentDDiff's x-update: from v = z − u, x̂ = D(v), g = J_Dᵀ J_Aᵀ(A(x̂) − y) (one decoder VJP),
 * x = v − γ₀·a(t)·g/‖g‖ per sample. Returns x and x̂.
 */
export async function latentGradientStep(
  m: MeasurementValue,
  net: AutoencoderNet,
  z: Tensor,
  u: Tensor | undefined,
  t: number,
  p: LatentStepParams,
): Promise<{ x: Tensor; decoded: Tensor }> {
  const v = u
    ? tensor(
        z.shape,
        Float32Array.from(z.data, (a, i) => a - u.data[i]!),
      )
    : z;
  const decoded = await net.run(v);
  const g = await net.vjp!(v, m.op.vjp!(decoded, dataResidual(m, decoded)));
  const per = sizeOf(v.shape.slice(1));
  const step = p.gamma0 * (t > p.tGamma ? p.a : p.b);
  const x = tensor(v.shape);
  for (let s = 0; s < v.shape[0]!; s++) {
    let n2 = 0;
    for (let i = s * per; i < (s + 1) * per; i++) n2 += g.data[i]! ** 2;
    const scale = p.normalize ? (n2 > 0 ? step / Math.sqrt(n2) : 0) : step;
    for (let i = s * per; i < (s + 1) * per; i++) x.data[i] = v.data[i]! - scale * g.data[i]!;
  }
  return { x, decoded };
}

/** Executors by node kind, merged into the runtime's table. */
export const latentExecutors: Record<string, Executor> = Object.fromEntries([
  bind(encoder, async (ctx) => {
    const x = ctx.input('image') as Tensor;
    try {
      const net = await countedNet(ctx, 'encoder');
      return { z: await net.run(x) };
    } catch (e) {
      failOn(ctx, 'Encoder', e);
    }
  }),
  bind(decoder, async (ctx) => {
    const z = ctx.input('z') as Tensor;
    const v = ctx.input('cotangent') as Tensor | undefined;
    try {
      const net = await countedNet(ctx, 'decoder');
      const image = await net.run(z);
      const outs: Record<string, Tensor> = { image };
      if (v) outs.grad = await net.vjp!(z, v);
      return outs;
    } catch (e) {
      failOn(ctx, 'Decoder', e);
    }
  }),
  bind(latentXUpdate, async (ctx) => {
    const s = ctx.input('schedule') as ResolvedSchedule;
    try {
      const net = await countedNet(ctx, 'decoder');
      const u = ctx.input('u') as Tensor | undefined;
      const r = await latentGradientStep(ctx.input('measurement') as MeasurementValue, net, ctx.input('z') as Tensor, u, s.t[ctx.k]!, ctx.params);
      return { x: r.x, decoded: r.decoded };
    } catch (e) {
      failOn(ctx, 'LatentXUpdate', e);
    }
  }),
]);
