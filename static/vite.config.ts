import { defineConfig, loadEnv } from 'vite';

// Static single-page frontend. `npm run build` writes dist/index.html plus
// content-hashed files under dist/assets/; the edge serves dist/ as-is.
export default defineConfig(({ mode }) => {
  // Optional: `STATUSWATCH_API_URL=http://127.0.0.1:8080 npm run dev` proxies
  // the backend's health endpoints so the status line works in development.
  const env = loadEnv(mode, '.', 'STATUSWATCH_');
  const api = env.STATUSWATCH_API_URL;

  return {
    base: '/',
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      assetsDir: 'assets',
      // Never inline assets as data: URIs; the production CSP allows only 'self'.
      assetsInlineLimit: 0,
      // Single entry chunk: the modulepreload polyfill would be dead weight.
      modulePreload: { polyfill: false },
    },
    server: api ? { proxy: { '/health': { target: api, changeOrigin: true } } } : {},
  };
});
