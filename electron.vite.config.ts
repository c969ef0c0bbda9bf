// Build of the desktop app: main process, preload and the React renderer (electron-vite layout).
// The renderer is the same bundle browser mode serves from the loopback engine server.
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { contentSecurityPolicy } from './vite.renderer.config';
import { defineConfig } from 'electron-vite';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

// electron-vite picks its output format and Node target from the installed Electron's version.
// Where the optional `electron` package is absent (its binary download failed), build for the
// major version package.json asks for.
function electronInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('electron/package.json');
    return true;
  } catch {
    return false;
  }
}
if (!process.env.ELECTRON_MAJOR_VER && !electronInstalled()) {
  const wanted: string = JSON.parse(readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')).optionalDependencies.electron;
  process.env.ELECTRON_MAJOR_VER = /\d+/.exec(wanted)![0];
}

export default defineConfig({
  main: {
    // ES module (package.json is "type": "module"): out/main/index.js, package.json's "main".
    build: {
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'src/main/index.ts') },
        output: { format: 'es' },
        // Only a checkout without the engine build reaches tsx (a development dependency): never bundled.
        external: [/^tsx(\/|$)/],
      },
    },
  },
  preload: {
    // The window is sandboxed, and sandboxed preloads cannot be ES modules: one CommonJS file
    // (out/preload/index.cjs) that requires nothing but 'electron'.
    build: {
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src/renderer'),
    build: { rollupOptions: { input: { index: resolve(import.meta.dirname, 'src/renderer/index.html') } } },
    plugins: [react(), tailwindcss(), contentSecurityPolicy()],
  },
});
