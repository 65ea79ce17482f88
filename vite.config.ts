import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer: one static build served by Electron (app://) and by the browser transport.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: true, target: 'chrome120' },
});
