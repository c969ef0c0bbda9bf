// The studio page's Content-Security-Policy, added to built pages only (the dev server injects an
// inline script for hot reload). Scripts come from the page's own origin; the engine is reached
// over the loopback WebSocket (browser mode) or IPC (desktop); pictures are data/blob URLs.
import type { Plugin } from 'vite';

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
