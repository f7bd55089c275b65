import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into dist/console and served by Nest under /console (src/console). Hashed files go to
// /console/assets/ (cached for a year); index.html is never cached.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [react()],
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    // No inline module-preload polyfill: the CSP allows scripts from this origin only.
    modulePreload: { polyfill: false },
  },
});
