/**
 * Browser-mode host: a loopback-only HTTP server that serves the built studio page and a WebSocket
 * (`/api/socket`) speaking the studio protocol (src/protocol) to an {@link EngineService}. A
 * per-launch random token is required to open the socket, so other local pages and users cannot
 * drive the engine; connections from other addresses are refused.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { EngineService, RequestError } from '../engine/api/service';
import type { ServerMessage } from '../protocol/messages';
import { clientMessageSchema } from '../protocol/messages';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Built renderer (index.html and assets). */
  staticDir: string;
  presetsDir?: string;
  uploadsDir?: string;
  /** Fixed token (tests); default a fresh random one per launch. */
  token?: string;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2' };
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given), b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Answers one connection's requests; run events go to the connection that started the run. */
function serve(ws: WebSocket, opts: ServerOptions): void {
  const send = (m: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const engine = new EngineService((runId, event) => send({ runId, event }), {
    ...(opts.presetsDir ? { presetsDir: opts.presetsDir } : {}),
    ...(opts.uploadsDir ? { uploadsDir: opts.uploadsDir } : {}),
  });
  // A closed page cannot see its runs any more: stop them rather than burn the CPU.
  ws.on('close', () => engine.dispose());
  ws.on('message', (data) => {
    let msg;
    try {
      msg = clientMessageSchema.parse(JSON.parse(String(data)));
    } catch {
      ws.close(1003, 'malformed message');
      return;
    }
    const { id, method, params } = msg;
    engine.handle(method, params).then(
      (result) => send({ id, ok: true, result }),
      (e: Error) => send({ id, ok: false, error: e.message, ...(e instanceof RequestError && e.issues ? { issues: e.issues } : {}) }),
    );
  });
}

/** Starts the server on 127.0.0.1; resolves with it, its page URL (token included) and the token. */
export async function startServer(opts: ServerOptions): Promise<{ server: Server; url: string; token: string }> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const server = createServer((req, res) => {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      res.writeHead(403).end();
      return;
    }
    // Static files of the built renderer; unknown paths get the page. The page itself is not
    // secret; the engine behind the socket is.
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = normalize(join(opts.staticDir, path === '/' ? 'index.html' : decodeURIComponent(path)));
    const target = file.startsWith(opts.staticDir) && existsSync(file) && statSync(file).isFile() ? file : join(opts.staticDir, 'index.html');
    if (!existsSync(target)) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`the studio page is not built (${target} missing): npm run build:renderer`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff' });
    createReadStream(target).pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const local = LOOPBACK.has(req.socket.remoteAddress ?? '');
    if (!local || url.pathname !== '/api/socket' || !sameToken(url.searchParams.get('token'), token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, opts));
  });
  server.on('close', () => wss.close());

  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { server, url: `http://127.0.0.1:${port}/?token=${token}`, token };
}
