/** The typed EngineClient over a fake transport: event routing, early events, lost connections. */
import { describe, expect, it } from 'vitest';
import { engineClient } from './client';
import type { Transport } from './client';
import type { WireRunEvent } from './messages';
import type { WireTuneEvent } from './tune';

function fake(): { transport: Transport; emit: (runId: string, e: WireRunEvent) => void; close: (why: string) => void; runId: { value: string }; early: WireRunEvent[] } {
  let onEvent: (runId: string, e: WireRunEvent) => void = () => {};
  let onClose: (why: string) => void = () => {};
  const runId = { value: '1' };
  const early: WireRunEvent[] = [];
  const transport: Transport = {
    async request(method) {
      if (method === 'tune.start') {
        for (const e of early) onEvent('tune-1', e); // events that overtake the answer
        return { tuneId: 'tune-1' };
      }
      if (method !== 'run.start') return {};
      for (const e of early) onEvent(runId.value, e); // events that overtake the answer
      return { runId: runId.value };
    },
    onRunEvent: (l) => ((onEvent = l), () => {}),
    onClose: (l) => void (onClose = l),
  };
  return { transport, emit: (id, e) => onEvent(id, e), close: (why) => onClose(why), runId, early };
}

const progress = (iteration: number): WireRunEvent => ({ type: 'progress', iteration, of: 10, nfe: iteration, elapsedMs: 1 });

describe('engineClient', () => {
  it('routes each run its own events, including those that arrive before run.start answers', async () => {
    const f = fake();
    f.early.push(progress(1));
    const client = engineClient(f.transport);
    const seen: WireRunEvent[] = [];
    await client.run({ doc: {} }, (e) => seen.push(e));
    f.emit('1', progress(2));
    f.emit('2', progress(99)); // another run's event
    expect(seen.map((e) => (e.type === 'progress' ? e.iteration : -1))).toEqual([1, 2]);
  });

  it('ends a run in flight with an error when the connection is lost, and only once', async () => {
    const f = fake();
    const client = engineClient(f.transport);
    const seen: WireRunEvent[] = [];
    await client.run({ doc: {} }, (e) => seen.push(e));
    f.close('lost the connection');
    f.close('again');
    expect(seen).toEqual([{ type: 'error', message: 'lost the connection' }]);
  });

  it('stops delivering after a final event', async () => {
    const f = fake();
    const client = engineClient(f.transport);
    const seen: string[] = [];
    await client.run({ doc: {} }, (e) => seen.push(e.type));
    f.emit('1', { type: 'error', message: 'boom' });
    f.emit('1', progress(3));
    f.close('lost');
    expect(seen).toEqual(['error']);
  });

  it('routes a search its own events under its tune id, apart from runs, and ends it when the connection is lost', async () => {
    const f = fake();
    const phase = { type: 'tune-phase', phase: 'defaults', detail: '' } as const;
    const client = engineClient(f.transport);
    const tune: WireTuneEvent[] = [];
    const run: WireRunEvent[] = [];
    await client.run({ doc: {} }, (e) => run.push(e));
    f.early.push(phase as unknown as WireRunEvent); // arrives before tune.start answers
    await client.tune!(
      { doc: {}, task: 't', ranges: [{ node: 'x', param: 'p', kind: 'linear', lo: 0, hi: 1 }], val: ['a'], test: ['b'], budget: { trials: 1 }, objective: 'psnr' },
      (e) => tune.push(e),
    );
    f.emit('1', progress(1));
    f.close('lost the connection');
    expect(tune).toEqual([phase, { type: 'tune-error', message: 'lost the connection' }]);
    expect(run.map((e) => e.type)).toEqual(['progress', 'error']);
  });
});
