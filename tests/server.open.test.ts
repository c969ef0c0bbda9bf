/**
 * `lagrange studio --open`: the browser is started on a local page that forwards to the studio,
 * so the access token never appears on a command line (which every local user can read). The
 * page is a file only this user can read, and it is removed once the studio page has connected.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openInBrowser } from '../src/server/open';
import { startServer } from '../src/server/server';
import { openSocket, waitFor } from './serverHelpers';

const dir = mkdtempSync(join(tmpdir(), 'lagrange-server-open-'));
let server: Server | undefined;
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for xdg-open: records its arguments and a copy of the file it was given. */
function fakeOpener(): { path: string; args: string; copy: string } {
  const path = join(dir, 'opener.sh'),
    args = join(dir, 'args.txt'),
    copy = join(dir, 'copy.html');
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${args}.part"\ncat "$1" > "${copy}"\nmv "${args}.part" "${args}"\n`, { mode: 0o755 });
  return { path, args, copy };
}

describe.skipIf(process.platform === 'win32')('opening the studio in a browser', () => {
  it('starts the browser on a private forwarding page: no token on the command line', async () => {
    const started = await startServer({ port: 0, staticDir: join(dir, 'renderer'), uploadsDir: join(dir, 'uploads'), onSocket: () => opened.remove() });
    server = started.server;
    const opener = fakeOpener();
    const opened = openInBrowser(started.url, { opener: opener.path, dir });
    await waitFor(() => existsSync(opener.args), 'the opener to run');

    const argv = readFileSync(opener.args, 'utf8').trim().split('\n');
    expect(argv).toEqual([opened.file]);
    expect(argv.join(' ')).not.toContain(started.token);
    expect(opened.file).toMatch(/\.html$/);
    // Readable by this user only, in a folder only this user can list.
    expect(statSync(opened.file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(opened.file)).mode & 0o777).toBe(0o700);
    const page = readFileSync(opener.copy, 'utf8');
    expect(page).toContain(`location.replace(${JSON.stringify(started.url)})`);
    expect(page).toContain('<meta name="referrer" content="no-referrer">');

    // The studio page connecting is the sign the forwarding page has done its work.
    const ws = await openSocket(started.url.replace('http://', 'ws://').replace('/?', '/api/socket?'));
    await waitFor(() => !existsSync(opened.file) && !existsSync(dirname(opened.file)), 'the forwarding page to be removed');
    ws.close();
  });

  it('escapes the address it forwards to', () => {
    const opened = openInBrowser('http://127.0.0.1:1/?token=a"b<c&d', { opener: join(dir, 'missing-opener'), dir });
    const page = readFileSync(opened.file, 'utf8');
    expect(page).not.toContain('a"b<c&d');
    expect(page).toContain('a&quot;b&lt;c&amp;d');
    expect(page).toContain('"http://127.0.0.1:1/?token=a\\"b\\u003cc&d"');
    opened.remove();
    expect(existsSync(opened.file)).toBe(false);
  });
});
