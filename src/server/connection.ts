/**
 * One browser-mode connection: the studio protocol over a WebSocket, answered by its own
 * {@link EngineService}. What a page sends is untrusted, so before the engine sees a request this
 * layer checks uploads (type, size, quota) and the number of runs in flight, and has the engine
 * check the files a run would read; no message, however malformed, can throw out of a handler.
 */
import type { WebSocket } from 'ws';
import type { GraphChecks } from '../engine/api/checkPool';
import { EngineService, RequestError } from '../engine/api/service';
import type { Params, ServerMessage, WireIssue, WireRunEvent } from '../protocol/messages';
import type { TuneMessage } from '../protocol/tune';
import { clientMessageSchema, parseRequest } from '../protocol/messages';
import type { FileAccess } from './fileAccess';
import { refusedReads } from './fileAccess';
import type { UploadBudget } from './uploads';

/** What every connection of one server shares. */
export interface ConnectionContext {
  presetsDir?: string;
  uploadsDir: string;
  access: FileAccess;
  uploads: UploadBudget;
  /** Runs one connection may have in flight. */
  maxRuns: number;
  /** Where graphs are parsed and validated: one worker for the whole server (src/engine/api/checkPool.ts). */
  checks: GraphChecks;
  /** Where failures that are nobody's reply go (the server's stderr by default). */
  log: (line: string) => void;
  /** Where the Tune panel's searches go (default `~/.lagrange/tunes`). */
  tunesDir?: string;
}

/** The images of a search that lie outside `access`, judged as ImageInput sources are. */
function refusedImages(refs: string[], access: FileAccess): WireIssue[] {
  const nodes = refs.map((source, i) => ({ id: String(i), kind: 'ImageInput', params: { source } }));
  // Worded for the search: its images are no graph's nodes.
  return refusedReads({ nodes, overrides: {} }, access).map(({ message, nodeId }) => ({
    path: `images[${nodeId}]`,
    message: `tune.start: ${message.replace(/^node "\d+" \(ImageInput\): source /, 'image ')}`,
  }));
}

const LAST: ReadonlySet<WireRunEvent['type']> = new Set(['done', 'cancelled', 'error']);

/** Counts one connection's runs from start to their last event, and refuses starts over `max`. */
function runSlots(max: number): { reserve(): void; started(id: string): void; failed(): void; event(id: string, e: WireRunEvent): void } {
  let starting = 0;
  const active = new Set<string>();
  const endedEarly = new Set<string>(); // a last event that beat its start's reply
  return {
    reserve() {
      const busy = starting + active.size;
      if (busy >= max)
        throw new RequestError(`run.start: this connection already runs ${busy} graph${busy === 1 ? '' : 's'} (at most ${max} at a time); cancel one or wait for it to finish`);
      starting++;
    },
    started(id) {
      starting--;
      if (!endedEarly.delete(id)) active.add(id);
    },
    failed() {
      starting--;
    },
    event(id, e) {
      if (LAST.has(e.type) && !active.delete(id)) endedEarly.add(id);
    },
  };
}

/** Serves the protocol on `ws` until it closes; its runs are cancelled then. */
export function serveConnection(ws: WebSocket, ctx: ConnectionContext): void {
  const send = (m: ServerMessage | TuneMessage): void => {
    if (ws.readyState !== ws.OPEN) return;
    try {
      ws.send(JSON.stringify(m));
    } catch (e) {
      ctx.log(`could not send a message: ${(e as Error).message}`);
    }
  };
  const slots = runSlots(ctx.maxRuns);
  const engine = new EngineService(
    (runId, event) => {
      slots.event(runId, event);
      send({ runId, event });
    },
    {
      uploadsDir: ctx.uploadsDir,
      ...(ctx.presetsDir ? { presetsDir: ctx.presetsDir } : {}),
      checks: ctx.checks,
      // The files a run reads, judged on the document the check worker parsed (measurement applied).
      checkReads: (doc) => refusedReads(doc, ctx.access),
      // A search's events travel like run events, under its tune id.
      tune: { emit: (runId, event) => send({ runId, event }), checkImages: (refs) => refusedImages(refs, ctx.access), ...(ctx.tunesDir ? { dir: ctx.tunesDir } : {}) },
    },
  );

  /** The engine's answer, after this host's own checks of uploads and runs. */
  const answer = async (method: string, params: unknown): Promise<unknown> => {
    if (method === 'images.upload') {
      const p = parseRequest(method, params).params as Params<'images.upload'>;
      const bytes = ctx.uploads.take(p.name, p.base64);
      try {
        return await engine.handle(method, p);
      } catch (e) {
        ctx.uploads.refund(bytes);
        throw e;
      }
    }
    if (method === 'run.start') {
      const p = parseRequest(method, params).params as Params<'run.start'>;
      slots.reserve();
      try {
        const r = (await engine.handle(method, p)) as { runId: string };
        slots.started(r.runId);
        return r;
      } catch (e) {
        slots.failed();
        throw e;
      }
    }
    return engine.handle(method, params);
  };

  // A closed page cannot see its runs any more: stop them rather than burn the CPU.
  ws.on('close', () => engine.dispose());
  // ws has already started closing with the matching code (1009 for an oversized frame, 1002 for
  // a protocol violation); without this listener the error would be thrown and end the process.
  ws.on('error', (e) => ctx.log(`closed a connection: ${e.message}`));
  ws.on('message', (data) => {
    try {
      let msg;
      try {
        msg = clientMessageSchema.parse(JSON.parse(String(data)));
      } catch {
        ws.close(1003, 'malformed message');
        return;
      }
      const { id, method, params } = msg;
      answer(method, params)
        .then(
          (result) => send({ id, ok: true, result }),
          (e: unknown) => {
            const err = e instanceof Error ? e : new Error(String(e));
            send({ id, ok: false, error: err.message, ...(err instanceof RequestError && err.issues ? { issues: err.issues } : {}) });
          },
        )
        .catch((e: unknown) => ctx.log(`request ${id} (${method}) failed: ${(e as Error).message}`));
    } catch (e) {
      // Nothing above should throw; if it does, this connection ends, not the server.
      ctx.log(`closed a connection after an internal error: ${(e as Error).message}`);
      ws.terminate();
    }
  });
}
