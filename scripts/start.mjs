#!/usr/bin/env node
// `npm start`: the studio. The Electron host is used when its binary is installed and the desktop
// build exists; otherwise (e.g. `npm ci` without the Electron download) browser mode starts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEngine } from '../bin/engine.mjs';

// The example plugins (plugins/ct, plugins/mri) load in the studio this opens, desktop or browser.
const examples = fileURLToPath(new URL('../plugins', import.meta.url));
if (existsSync(examples)) process.env.LAGRANGE_PLUGINS = [process.env.LAGRANGE_PLUGINS, examples].filter(Boolean).join(delimiter);

function electronBinary() {
  try {
    const path = createRequire(import.meta.url)('electron'); // throws when the binary was not downloaded
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const electron = electronBinary();
const desktop = new URL('../src/main/index.ts', import.meta.url);
if (electron && existsSync(desktop)) {
  const { spawn, execFileSync } = await import('node:child_process');
  // The main process imports the built engine (out/engine): bring it up to date first (~0.3 s).
  execFileSync(process.execPath, [new URL('./build-engine.mjs', import.meta.url).pathname], { stdio: 'inherit' });
  spawn(process.execPath, [new URL('../node_modules/electron-vite/bin/electron-vite.js', import.meta.url).pathname, 'dev'], { stdio: 'inherit' });
} else {
  console.log(electron ? 'Desktop sources missing: starting browser mode.' : 'No Electron binary installed: starting browser mode (see docs/desktop.md for the desktop app).');
  const { studio } = await loadEngine('server', 'src/server/main.ts');
  await studio({ port: Number(process.env.PORT ?? 5217), open: process.env.LAGRANGE_NO_OPEN !== '1' });
}
