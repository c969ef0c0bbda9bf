/**
 * Browser-mode host: a loopback-only HTTP server that serves the built studio page and a WebSocket
 * (`/api/socket`) speaking the studio protocol (src/protocol) to an {@link EngineService}. A
 * per-launch random token is required to open the socket, so other local pages and users cannot
 * drive the engine; connections from other addresses, requests naming another host (DNS
 * rebinding) and pages of other origins are refused. Nothing a client sends ends the process:
 * every handler has an error boundary and every socket an error listener.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import type { CheckPoolOptions } from '../engine/api/checkPool';
import { CheckPool } from '../engine/api/checkPool';
import { serveConnection } from './connection';
import { fileAccess } from './fileAccess';
import { plain, refusal, servePage } from './http';
import type { UploadLimits } from './uploads';
import { DEFAULT_UPLOAD_LIMITS, uploadBudget } from './uploads';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Built renderer (index.html and assets). */
  staticDir: string;
  presetsDir?: string;
  /** Where uploads are stored (default `~/.lagrange/uploads`); runs may read them. */
  uploadsDir?: string;
  /** Folders, besides uploads and the bundled resources, whose files runs may read. */
  allow?: readonly string[];
  /** Size limits of uploads (default 32 MiB a file, 512 MiB per server). */
  uploadLimits?: Partial<UploadLimits>;
  /** Runs one connection may have in flight (default 2). */
  maxRunsPerConnection?: number;
  /** The graph check worker's time limit, queue and in-place budget (src/engine/api/checkPool.ts). */
  checks?: CheckPoolOptions;
  /** Fixed token (tests); default a fresh random one per launch. */
  token?: string;
  /** Called whenever a page opens the socket (e.g. to delete the page that opened the browser). */
  onSocket?: () => void;
  /** Where failures that are nobody's reply are reported (default: stderr). */
  log?: (line: string) => void;
  /** Where the Tune panel's searches write their folders (default `~/.lagrange/tunes`). */
  tunesDir?: string;
}

/**
 * Largest WebSocket message: the protocol's largest request (an upload's 50 M base64 characters)
 * plus its envelope. Bigger frames are refused by ws with close code 1009 before being buffered.
 */
export const MAX_MESSAGE_BYTES = 50 * 2 ** 20;

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given),
    b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Answers a refused upgrade on the raw socket and closes it. */
function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** Starts the server on 127.0.0.1; resolves with it, its page URL (token included) and the token. */
export async function startServer(opts: ServerOptions): Promise<{ server: Server; url: string; token: string }> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const log = opts.log ?? ((line: string) => void process.stderr.write(`lagrange studio: ${line}\n`));
  const uploadsDir = opts.uploadsDir ?? join(homedir(), '.lagrange', 'uploads');
  const context = {
    uploadsDir,
    ...(opts.presetsDir ? { presetsDir: opts.presetsDir } : {}),
    access: fileAccess({ uploadsDir, ...(opts.allow ? { allow: opts.allow } : {}) }),
    uploads: uploadBudget({ ...DEFAULT_UPLOAD_LIMITS, ...opts.uploadLimits }),
    maxRuns: opts.maxRunsPerConnection ?? 2,
    // One check worker for every connection: large graphs are parsed and validated off this thread.
    checks: new CheckPool(opts.checks),
    log,
    ...(opts.tunesDir ? { tunesDir: opts.tunesDir } : {}),
  };
  let port = opts.port;

  const server = createServer((req, res) => {
    try {
      const no = refusal(req, port);
      if (no) return plain(res, no.status, no.text);
      // Static files of the built renderer; unknown paths get the page. The page itself is not
      // secret; the engine behind the socket is.
      servePage(req, res, opts.staticDir);
    } catch (e) {
      log(`request ${req.method} ${req.url} failed: ${(e as Error).message}`);
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    }
  });
  // Malformed HTTP: answer 400 and drop the connection (Node's default, kept explicit).
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    // Node removes its own listeners from an upgraded socket: a peer hanging up must not throw.
    socket.on('error', () => socket.destroy());
    try {
      const no = refusal(req, port);
      if (no) return refuseUpgrade(socket, no.status, no.text);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/api/socket' || !sameToken(url.searchParams.get('token'), token)) return refuseUpgrade(socket, 401, 'this page needs the link with its access token');
      wss.handleUpgrade(req, socket, head, (ws) => {
        try {
          serveConnection(ws, context);
          opts.onSocket?.();
        } catch (e) {
          log(`could not serve a connection: ${(e as Error).message}`);
          ws.terminate();
        }
      });
    } catch (e) {
      log(`upgrade failed: ${(e as Error).message}`);
      socket.destroy();
    }
  });
  wss.on('error', (e) => log(`socket server: ${e.message}`));
  server.on('close', () => {
    wss.close();
    void context.checks.close();
  });

  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { server, url: `http://127.0.0.1:${port}/?token=${token}`, token };
}
