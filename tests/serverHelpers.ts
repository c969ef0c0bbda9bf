/**
 * Helpers of the browser-mode server tests: real loopback sockets (WebSocket and plain HTTP) and
 * a minimal protocol client. Every wait is bounded, so a server that stops answering fails a test
 * instead of hanging it.
 */
import { request } from 'node:http';
import { WebSocket } from 'ws';
import type { ClientOptions } from 'ws';
import type { ServerMessage, WireRunEvent } from '../src/protocol/messages';

/** Opens a socket, or rejects with the HTTP status / network error. */
export function openSocket(address: string, options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(address, options);
    ws.once('open', () => res(ws));
    ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)));
    ws.once('error', rej);
  });
}

/** Resolves with the close code and reason of `ws`, or rejects after `ms`. */
export function closed(ws: WebSocket, ms = 20_000): Promise<{ code: number; reason: string }> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`socket still open after ${ms} ms`)), ms);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      res({ code, reason: String(reason) });
    });
  });
}

/** One HTTP answer: status, headers and body text. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET `path` (sent as is, not normalised) from 127.0.0.1:`port` with extra headers. */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, timeout: 10_000 }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString() }));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('error', rej);
    req.end();
  });
}

/** A reply to one request. */
export interface Reply {
  ok: boolean;
  result?: unknown;
  error?: string;
  issues?: { path: string; nodeId?: string; message: string }[];
}

/** A minimal protocol client over `ws`. */
export interface ProtocolClient {
  call: (method: string, params?: unknown) => Promise<Reply>;
  /** Every event of `runId` until its last (done, cancelled or error); `each` sees them as they come. */
  events: (runId: string, each?: (e: WireRunEvent) => void) => Promise<WireRunEvent[]>;
}

const LAST = ['done', 'cancelled', 'error'];

/** Wraps `ws` in a {@link ProtocolClient}. */
export function protocolClient(ws: WebSocket): ProtocolClient {
  let next = 1;
  const pending = new Map<number, (m: ServerMessage) => void>();
  const runs = new Map<string, WireRunEvent[]>();
  const waiters = new Map<string, { done: (e: WireRunEvent[]) => void; each?: (e: WireRunEvent) => void }>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as ServerMessage;
    if ('runId' in m) {
      const list = [...(runs.get(m.runId) ?? []), m.event];
      runs.set(m.runId, list);
      const w = waiters.get(m.runId);
      w?.each?.(m.event);
      if (LAST.includes(m.event.type)) w?.done(list);
    } else pending.get(m.id)?.(m);
  });
  return {
    call: (method, params = {}) =>
      new Promise((res) => {
        const id = next++;
        pending.set(id, res as (m: ServerMessage) => void);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    events: (runId, each) =>
      new Promise((res) => {
        const have = runs.get(runId) ?? [];
        have.forEach((e) => each?.(e));
        if (have.some((e) => LAST.includes(e.type))) return res(have);
        waiters.set(runId, { done: res, ...(each ? { each } : {}) });
      }),
  };
}

/** Polls `check` every 50 ms until it holds; rejects after `ms`. */
export async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const start = Date.now(); !check();) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
