/**
 * Browser-mode server under bad input, over real loopback sockets. The server runs in a child
 * process, so "it survived" means the process is still there and still answering: malformed URLs
 * get 400, oversized frames a close with 1009, broken messages a close with a reason, path tricks
 * 404; requests naming another host (DNS rebinding) or coming from another origin get 403.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closed, httpGet, openSocket, protocolClient } from './serverHelpers';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lagrange-server-hardening-'));
let child: ChildProcess;
let port: number;
let token: string;
let stderr = '';

beforeAll(async () => {
  // A built page and, beside it, a folder whose name starts like the page's (the prefix trap).
  mkdirSync(join(dir, 'renderer/assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer/index.html'), '<!doctype html><title>studio</title>');
  writeFileSync(join(dir, 'renderer/assets/app.js'), 'console.log(1)');
  mkdirSync(join(dir, 'renderer-evil'));
  writeFileSync(join(dir, 'renderer-evil/secret.txt'), 'the secret');
  const code = `
    const { startServer } = await import(${JSON.stringify(resolve(ROOT, 'src/server/server.ts'))});
    const { url, token } = await startServer({ port: 0, staticDir: ${JSON.stringify(join(dir, 'renderer'))}, uploadsDir: ${JSON.stringify(join(dir, 'uploads'))} });
    process.stdout.write(JSON.stringify({ url, token }) + '\\n');`;
  child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
  const line = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes('\n')) res(out.split('\n')[0]!);
    });
    child.once('exit', (c) => rej(new Error(`server process exited (${c}): ${stderr}`)));
  });
  const started = JSON.parse(line) as { url: string; token: string };
  port = Number(new URL(started.url).port);
  token = started.token;
}, 60_000);

afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const socketUrl = (t = token): string => `ws://127.0.0.1:${port}/api/socket?token=${t}`;

/** The server process is alive and answers a page request and a protocol call. */
async function stillServing(): Promise<void> {
  expect(child.exitCode, stderr).toBeNull();
  expect((await httpGet(port, '/')).status).toBe(200);
  const ws = await openSocket(socketUrl());
  expect((await protocolClient(ws).call('presets.list')).ok).toBe(true);
  ws.close();
}

describe('browser-mode server under bad input', () => {
  it('answers 400 to a URL that does not decode, and stays up', async () => {
    for (const path of ['/%', '/%E0%A4%A', '/assets/%ZZ.js']) {
      const r = await httpGet(port, path);
      expect(r.status, path).toBe(400);
    }
    await stillServing();
  });

  it('closes a socket that sends a 65 MB frame with 1009 and stays up', async () => {
    const ws = await openSocket(socketUrl());
    const end = closed(ws);
    ws.on('error', () => {}); // the server hangs up mid-frame
    ws.send(Buffer.alloc(65 * 1024 * 1024, 0x20));
    expect((await end).code).toBe(1009);
    await stillServing();
  });

  it('closes a socket that sends something other than a request, with a reason', async () => {
    for (const bad of ['not json', '{"id":1}', Buffer.from([0xff, 0xfe, 0x00])]) {
      const ws = await openSocket(socketUrl());
      const end = closed(ws);
      ws.send(bad);
      expect(await end).toEqual({ code: 1003, reason: 'malformed message' });
    }
    await stillServing();
  });

  it('survives garbage on the port and clients that hang up mid-handshake', async () => {
    const raw = (bytes: string, hangUp: boolean): Promise<void> =>
      new Promise((res) => {
        const s = connect(port, '127.0.0.1', () => {
          s.write(bytes);
          if (hangUp) s.destroy();
          else s.end();
        });
        s.on('error', () => {});
        s.on('close', () => res());
        s.resume();
      });
    await raw('GARBAGE\r\n\r\n', false);
    const upgrade = (t: string): string =>
      `GET /api/socket?token=${t} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 1).toString('base64')}\r\n\r\n`;
    for (let i = 0; i < 20; i++) {
      await raw(upgrade('wrong'), true);
      await raw(upgrade(token), true);
    }
    await raw(`GET /api/socket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n`, false);
    await stillServing();
  });

  it('serves files of the page only: an encoded ../ into a sibling folder is refused', async () => {
    expect((await httpGet(port, '/assets/app.js')).headers['content-type']).toBe('text/javascript');
    for (const path of ['/..%2frenderer-evil%2fsecret.txt', '/%2e%2e%2frenderer-evil%2fsecret.txt', '/assets/..%2f..%2frenderer-evil%2fsecret.txt']) {
      const r = await httpGet(port, path);
      expect(r.body, path).not.toContain('the secret');
      expect(r.status, path).toBe(404);
    }
    // A NUL or a backslash (a separator on Windows) has no place in a path of the page.
    for (const path of ['/index.html%00.js', '/..%5crenderer-evil%5csecret.txt']) expect((await httpGet(port, path)).status, path).toBe(400);
    // Unknown paths inside the page still get the page (client-side routes).
    expect((await httpGet(port, '/compare')).body).toContain('<title>studio</title>');
    await stillServing();
  });

  it('answers only requests for its own loopback host and port (DNS rebinding)', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      expect((await httpGet(port, '/', { host })).status, host).toBe(200);
    }
    for (const host of [`evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `127.0.0.1.evil.example:${port}`, `localhost.:${port}`]) {
      const r = await httpGet(port, '/', { host });
      expect(r.status, host).toBe(403);
    }
    await expect(openSocket(socketUrl(), { headers: { host: `rebound.example:${port}` } })).rejects.toThrow('HTTP 403');
  });

  it('refuses pages of other origins, on the socket and over HTTP', async () => {
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `http://127.0.0.1:${port + 1}`, `https://localhost:${port}`]) {
      await expect(openSocket(socketUrl(), { origin }), origin).rejects.toThrow('HTTP 403');
      expect((await httpGet(port, '/', { origin })).status, origin).toBe(403);
    }
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const ws = await openSocket(socketUrl(), { origin });
      ws.close();
    }
    // A right origin does not stand in for the token.
    await expect(openSocket(socketUrl('x'), { origin: `http://127.0.0.1:${port}` })).rejects.toThrow('HTTP 401');
  });

  it('answers methods other than GET and HEAD with 405', async () => {
    expect((await httpGet(port, '/', {}, 'POST')).status).toBe(405);
    expect((await httpGet(port, '/', {}, 'HEAD')).status).toBe(200);
    await stillServing();
  });
});
