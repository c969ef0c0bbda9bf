/**
 * The browser-mode server's HTTP side: which requests it answers at all (loopback peers naming
 * this server's own loopback host and port, from no page or our own page) and how it maps a URL
 * path to a file of the built page without ever leaving that folder.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};
const LOOPBACK_PEERS = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Sent with every answer: no sniffing, no framing (the page's URL carries the token), no referrer. */
const SAFE_HEADERS = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' };

/** Whether the connection comes from this machine's loopback interface. */
export function loopbackPeer(req: IncomingMessage): boolean {
  return LOOPBACK_PEERS.has(req.socket.remoteAddress ?? '');
}

/**
 * Whether a Host header names this server: a loopback name with our port. A page that reached us
 * through DNS rebinding sends its own host name here, so this refuses it.
 */
export function loopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  const colon = h.lastIndexOf(':');
  // "[::1]" alone has colons but no port; a port follows the last colon only after "]" or a name.
  const [name, p] = colon > h.lastIndexOf(']') ? [h.slice(0, colon), h.slice(colon + 1)] : [h, '80'];
  return LOOPBACK_NAMES.has(name) && p === String(port);
}

/** Whether an Origin header is acceptable: absent (not a browser page) or this server's own page. */
export function allowedOrigin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' && loopbackHost(u.host || undefined, port);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and garbage
  }
}

/**
 * Why a request may not be answered (status and text), or undefined when it may: peer, Host and
 * Origin are checked for pages and the socket alike.
 */
export function refusal(req: IncomingMessage, port: number): { status: number; text: string } | undefined {
  if (!loopbackPeer(req)) return { status: 403, text: 'only this machine may connect' };
  if (!loopbackHost(req.headers.host, port)) return { status: 403, text: `unknown host ${req.headers.host ?? '(none)'}; open http://127.0.0.1:${port}/` };
  if (!allowedOrigin(req.headers.origin, port)) return { status: 403, text: `requests from ${req.headers.origin} are not accepted` };
  return undefined;
}

/**
 * The file under `root` that URL path `pathname` names; `index` for `/` and for paths inside the
 * page that name no file (client-side routes); 400 for a path that does not decode or carries a
 * NUL or backslash; 404 for one that leads out of `root`.
 */
export function staticFile(root: string, pathname: string): string | 400 | 404 {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return 400;
  }
  if (/[\0\\]/.test(decoded)) return 400;
  const base = resolve(root);
  const file = resolve(base, `./${decoded}`);
  const rel = relative(base, file);
  // A prefix test ("file starts with root") would let /../renderer-evil/ through: compare by path.
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return 404;
  if (rel !== '' && existsSync(file) && statSync(file).isFile()) return file;
  return join(base, 'index.html');
}

/** Ends `res` with a short plain-text answer. */
export function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
}

/** Answers one request for the built page in `staticDir` (GET and HEAD only). */
export function servePage(req: IncomingMessage, res: ServerResponse, staticDir: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, `${req.method} is not supported`, { allow: 'GET, HEAD' });
  let pathname: string;
  try {
    pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  } catch {
    return plain(res, 400, 'malformed URL');
  }
  const target = staticFile(staticDir, pathname);
  if (target === 400) return plain(res, 400, 'malformed path');
  if (target === 404) return plain(res, 404, 'not found');
  if (!existsSync(target)) return plain(res, 500, `the studio page is not built (${target} missing): npm run build:renderer`);
  res.writeHead(200, { ...SAFE_HEADERS, 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
  if (req.method === 'HEAD') return void res.end();
  // The file can vanish between the check and the read (a rebuild): end the answer, not the process.
  createReadStream(target)
    .on('error', () => res.destroy())
    .pipe(res);
}
