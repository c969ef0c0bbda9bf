/**
 * Browser-mode host: a loopback-only HTTP server that serves the studio page and exposes the
 * engine — presets, runs, and run events as Server-Sent Events (the same event shapes as the CLI's
 * --json and Electron IPC). Refuses connections that do not come from this machine.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { withMeasurement } from '../engine/graph/edit';
import { parseGraph } from '../engine/graph/format';
import { listPresets, presetFile } from '../engine/graph/presets';
import type { RunEvent } from '../engine/runtime/events';
import { runInWorker } from '../engine/runtime/worker/client';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Built renderer (index.html and assets). */
  staticDir: string;
  presetsDir: string;
}

type WireEvent = Omit<Extract<RunEvent, { type: 'preview' }>, 'rgba'> & { rgba: string } | Exclude<RunEvent, { type: 'preview' }>;

interface RunState {
  events: WireEvent[];
  done: boolean;
  listeners: Set<ServerResponse>;
  abort: AbortController;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function body(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

/** Starts the server on 127.0.0.1; resolves with it and its URL. */
export async function startServer(opts: ServerOptions): Promise<{ server: Server; url: string }> {
  const runs = new Map<string, RunState>();
  let nextId = 1;

  const server = createServer((req, res) => {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      res.writeHead(403).end();
      return;
    }
    void handle(req, res).catch((e: unknown) => json(res, 500, { error: (e as Error).message }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/api/presets') {
      return json(res, 200, listPresets(opts.presetsDir));
    }
    const preset = /^\/api\/presets\/([\w-]+)$/.exec(path);
    if (preset) {
      const f = presetFile(preset[1]!, opts.presetsDir);
      return f ? json(res, 200, JSON.parse(readFileSync(f, 'utf8'))) : json(res, 404, { error: `no preset '${preset[1]}'` });
    }
    if (path === '/api/runs' && req.method === 'POST') {
      const b = (await body(req)) as { preset?: string; task?: string; samples?: number; iterations?: number };
      const f = b.preset ? presetFile(b.preset, opts.presetsDir) : undefined;
      if (!f) return json(res, 400, { error: `no preset '${b.preset}'` });
      let doc = parseGraph(JSON.parse(readFileSync(f, 'utf8')), f);
      if (b.task) doc = withMeasurement(doc, { kind: 'simulate', task: b.task });
      const id = String(nextId++);
      const state: RunState = { events: [], done: false, listeners: new Set(), abort: new AbortController() };
      runs.set(id, state);
      const push = (e: WireEvent): void => {
        state.events.push(e);
        for (const l of state.listeners) l.write(`data: ${JSON.stringify(e)}\n\n`);
      };
      const emit = (e: RunEvent): void => push(e.type === 'preview' ? { ...e, rgba: Buffer.from(e.rgba.buffer, e.rgba.byteOffset, e.rgba.byteLength).toString('base64') } : e);
      void (async () => {
        try {
          // The engine runs in a worker thread: this thread keeps serving requests and events.
          await runInWorker(doc, { ...(b.samples ? { samples: b.samples } : {}), ...(b.iterations ? { iterations: b.iterations } : {}) }, { onEvent: emit, throttleMs: 100, signal: state.abort.signal });
        } catch (e) {
          const err = e as Error & { nodeId?: string };
          push({ type: 'error', message: err.message, ...(err.nodeId ? { nodeId: err.nodeId } : {}) });
        } finally {
          state.done = true;
          for (const l of state.listeners) l.end();
        }
      })();
      return json(res, 202, { id });
    }
    const cancel = /^\/api\/runs\/(\d+)$/.exec(path);
    if (cancel && req.method === 'DELETE') {
      const state = runs.get(cancel[1]!);
      if (!state) return json(res, 404, { error: 'no such run' });
      state.abort.abort();
      return json(res, 202, { cancelled: !state.done });
    }
    const events = /^\/api\/runs\/(\d+)\/events$/.exec(path);
    if (events) {
      const state = runs.get(events[1]!);
      if (!state) return json(res, 404, { error: 'no such run' });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const e of state.events) res.write(`data: ${JSON.stringify(e)}\n\n`);
      if (state.done) res.end();
      else {
        state.listeners.add(res);
        req.on('close', () => state.listeners.delete(res));
      }
      return;
    }
    // Static files of the built renderer; unknown paths get the page.
    const file = normalize(join(opts.staticDir, path === '/' ? 'index.html' : path));
    const target = file.startsWith(opts.staticDir) && existsSync(file) && statSync(file).isFile() ? file : join(opts.staticDir, 'index.html');
    if (!existsSync(target)) return json(res, 500, { error: `the studio page is not built (${target} missing)` });
    res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
    createReadStream(target).pipe(res);
  }

  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { server, url: `http://127.0.0.1:${port}/` };
}
