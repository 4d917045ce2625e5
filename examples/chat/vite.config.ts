import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The chat example: a static app that talks to an agentgraph server (GraphQL over HTTP + graphql-ws). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true },
});
