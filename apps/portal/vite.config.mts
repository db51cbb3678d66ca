import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The portal's build: static files under dist/portal, which the subscriptions
 * app serves at /portal with a strict Content-Security-Policy. Nothing may be
 * inline (no inline scripts or styles): the module-preload polyfill, which
 * Vite would otherwise add to the entry, is off, and assets are always files.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/portal/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/portal', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // TanStack Query marks its modules "use client" for React Server Components, which mean nothing in a browser bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
