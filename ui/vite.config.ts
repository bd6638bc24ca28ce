import { defineConfig } from 'vite';

// The web mode serves the built UI at /_studio/.
export default defineConfig({
  base: '/_studio/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 6000 },
});
