import { defineConfig } from 'vite';

// Relative asset URLs: the web mode serves the UI at /_studio/, the desktop app (Tauri) at its root.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 6000 },
});
