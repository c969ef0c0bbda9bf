/**
 * Opening the studio in the user's browser without putting the access token on a command line:
 * any local user can read a process's arguments (`ps`, /proc/<pid>/cmdline), both the opener's
 * and the browser's. The browser is started on a small local HTML file instead, readable only by
 * this user, that forwards to the studio's URL (the same approach as Jupyter's redirect file).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A forwarding page that was handed to the browser. */
export interface OpenedPage {
  /** The HTML file the browser was started on. */
  readonly file: string;
  /** Deletes the file and its folder (idempotent); call once the studio page has connected. */
  remove(): void;
}

/** Options of {@link openInBrowser}. */
export interface OpenOptions {
  /** The program that opens a file in the default browser (default: open, explorer or xdg-open). */
  opener?: string;
  /** Where the private folder is made (default: $XDG_RUNTIME_DIR, else the temp folder). */
  dir?: string;
  /** The page is removed after this long even if nobody connects (default 5 minutes). */
  keepMs?: number;
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The forwarding page's HTML: a script redirect, a meta refresh where scripts are off, and a link. */
export function forwardingPage(url: string): string {
  const js = JSON.stringify(url).replace(/</g, '\\u003c');
  const attr = escapeHtml(url);
  return [
    '<!doctype html>',
    '<meta charset="utf-8">',
    '<meta name="referrer" content="no-referrer">',
    '<title>Lagrange Studio</title>',
    `<meta http-equiv="refresh" content="0;url=${attr}">`,
    `<script>location.replace(${js})</script>`,
    `<p>Opening <a href="${attr}">Lagrange Studio</a>…</p>`,
    '',
  ].join('\n');
}

/** A fresh folder (mkdtemp makes it 0700) in the first of `parents` where one can be made. */
function privateFolder(parents: (string | undefined)[]): string {
  const usable = parents.filter((p): p is string => !!p);
  for (const [i, parent] of usable.entries()) {
    try {
      return mkdtempSync(join(parent, 'lagrange-open-'));
    } catch (e) {
      if (i === usable.length - 1) throw e; // e.g. XDG_RUNTIME_DIR set but missing: try the next
    }
  }
  throw new Error('no folder to write the page that opens the studio');
}

/**
 * Writes a page forwarding to `url` into a fresh folder only this user can enter (0700; the file
 * 0600), and starts the system's opener on that file, best effort: the studio stays usable at
 * the printed URL whether or not a browser opens.
 */
export function openInBrowser(url: string, opts: OpenOptions = {}): OpenedPage {
  const folder = privateFolder(opts.dir ? [opts.dir] : [process.env.XDG_RUNTIME_DIR, tmpdir()]);
  const file = join(folder, 'open.html');
  writeFileSync(file, forwardingPage(url), { mode: 0o600, flag: 'wx' });
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    clearTimeout(timer);
    rmSync(dirname(file), { recursive: true, force: true });
  };
  const timer = setTimeout(remove, opts.keepMs ?? 5 * 60_000);
  timer.unref();
  const opener = opts.opener ?? (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open');
  spawn(opener, [file], { stdio: 'ignore', detached: true })
    .on('error', () => {})
    .unref();
  return { file, remove };
}
