// Browser-mode build of the studio page (the Electron build uses electron.vite.config.ts).
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';

// The page's Content-Security-Policy, added to built pages only (the dev server injects an inline
// script for hot reload). Scripts come from the page's own origin; the engine is reached over the
// loopback WebSocket (browser mode) or IPC (desktop); pictures are data/blob URLs. Defined here,
// not in a module of its own, because Vite's config loader warns about extensionless imports; the
// desktop build imports it from this file.
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // React Flow and uPlot position elements with inline styles
  "img-src 'self' data: blob:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Vite plugin writing the CSP meta tag into built pages. */
export function contentSecurityPolicy(): Plugin {
  return {
    name: 'lagrange-csp',
    apply: 'build',
    transformIndexHtml: (html) => html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`),
  };
}

export default defineConfig({
  root: resolve(import.meta.dirname, 'src/renderer'),
  base: './',
  plugins: [react(), tailwindcss(), contentSecurityPolicy()],
  // One bundle for a local app: size warnings for the web do not apply.
  build: { outDir: resolve(import.meta.dirname, 'out/renderer'), emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
