/**
 * The thread that owns an ONNX operator's sessions (see sync.ts): onnxruntime-node answers
 * asynchronously, so the sessions live here and the operator's thread blocks until each answer.
 * A VJP derived by reverse mode is built here too, since the derivation runs the forward.
 * Every reply is posted on the private port first, then the shared flag is raised, so the
 * blocked thread finds the message with `receiveMessageOnPort` as soon as it wakes.
 */
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { vjpModel } from '../../onnx/autodiff/vjp';
import { openSession } from '../../onnx/session';
import type { OnnxSession } from '../../onnx/session';
import type { ExecutionProvider } from '../../priors/onnxPrior';
import { tensor } from '../../tensor/tensor';
import type { SyncReply, SyncRequest } from './sync';

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
const sessions = new Map<string, OnnxSession>();

function reply(m: SyncReply): void {
  port.postMessage(m);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

async function answer(req: SyncRequest): Promise<SyncReply> {
  switch (req.type) {
    case 'open': {
      const providers: string[] = [];
      for (const [name, bytes] of Object.entries(req.models)) {
        const s = await openSession(bytes, req.providers as ExecutionProvider[]);
        sessions.set(name, s);
        providers.push(s.provider);
      }
      return { type: 'opened', provider: providers[0] ?? 'cpu' };
    }
    case 'run': {
      const s = sessions.get(req.model);
      if (!s) throw new Error(`no session '${req.model}'`);
      const feeds = Object.fromEntries(Object.entries(req.inputs).map(([k, v]) => [k, tensor(v.shape, v.data)]));
      const out = (await s.run(feeds))[req.output];
      if (!out) throw new Error(`the model gave no output '${req.output}'`);
      return { type: 'ran', shape: [...out.shape], data: out.data };
    }
    case 'derive': {
      const d = await vjpModel(req.from, req.wrt, { file: req.file });
      sessions.set(req.name, await openSession(d.bytes, req.providers as ExecutionProvider[]));
      return { type: 'derived', vjp: { bytes: d.bytes, cotangent: d.cotangent, grad: d.grads[req.wrt]! } };
    }
    case 'close':
      await Promise.all([...sessions.values()].map((s) => s.release()));
      sessions.clear();
      return { type: 'closed' };
  }
}

port.on('message', (req: SyncRequest) => {
  answer(req).then(reply, (e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message.split('\n')[0]! : String(e) }));
});
reply({ type: 'ready' });
