// Browser-mode build of the studio page (the Electron build uses electron.vite.config.ts).
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { contentSecurityPolicy } from './csp';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: resolve(import.meta.dirname, 'src/renderer'),
  base: './',
  plugins: [react(), tailwindcss(), contentSecurityPolicy()],
  // One bundle for a local app: size warnings for the web do not apply.
  build: { outDir: resolve(import.meta.dirname, 'out/renderer'), emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
