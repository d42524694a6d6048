/// <reference types="vitest/config" />
import { defineConfig, loadEnv } from 'vite';

// The web app. `npm run build` writes dist/index.html plus content-hashed
// files under dist/assets/ (and dist/.vite/manifest.json, which the budget
// check reads); the edge serves dist/ and answers unknown paths with index.html.
export default defineConfig(({ mode }) => {
  // `STATUSWATCH_API_URL=http://127.0.0.1:8000 npm run dev` proxies the API.
  const env = loadEnv(mode, '.', 'STATUSWATCH_');
  const api = env.STATUSWATCH_API_URL;
  const proxied = { target: api, changeOrigin: false };

  return {
    base: '/',
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      assetsDir: 'assets',
      manifest: true,
      // Never inline assets as data: URIs; the production CSP allows only 'self'.
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
    },
    server: api
      ? { proxy: { '/api': proxied, '/admin/api': proxied, '/health': proxied } }
      : {},
    test: { include: ['src/**/*.test.ts'], environment: 'node' },
  };
});
