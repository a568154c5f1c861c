// Build of the PWA: root web/, output web/dist (served by the server at `/`), or with `--mode pages`
// (npm run build:pages) a GitHub Pages copy in web/dist-pages under the base path EASEL_BASE
// (default /easel/). The service worker is Workbox generateSW; every cache rule says why it exists.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

const PAGES_MODE = 'pages';
const DEFAULT_PAGES_BASE = '/easel/';

/** Base path: `/` for the copy the server serves; EASEL_BASE (default /easel/) for GitHub Pages. */
function basePath(mode: string): string {
  const raw = process.env.EASEL_BASE || (mode === PAGES_MODE ? DEFAULT_PAGES_BASE : '/');
  const withLead = raw.startsWith('/') ? raw : `/${raw}`;
  return withLead.endsWith('/') ? withLead : `${withLead}/`;
}

export default defineConfig(({ mode }) => ({
  root: webRoot,
  base: basePath(mode),
  publicDir: resolve(webRoot, 'public'),
  build: {
    outDir: process.env.EASEL_WEB_OUT_DIR ?? resolve(webRoot, mode === PAGES_MODE ? 'dist-pages' : 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  plugins: [
    VitePWA({
      strategies: 'generateSW',
      // A new build takes over at the next load: the shell has no unsaved state worth a prompt
      // (the form and gallery live in localStorage/IndexedDB).
      registerType: 'autoUpdate',
      // main.ts registers the worker itself so the app can report whether offline use is ready.
      injectRegister: false,
      includeAssets: ['icons/icon.svg', 'icons/apple-touch-icon.png', 'offline.html'],
      manifest: {
        name: 'Easel',
        short_name: 'Easel',
        description: 'A self-hosted Stable Diffusion studio',
        theme_color: '#1b1d23',
        background_color: '#1b1d23',
        display: 'standalone',
        orientation: 'any',
        // Relative so that the same manifest works at `/` and under the Pages base path.
        start_url: '.',
        scope: '.',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // The shell (JS, CSS, HTML, icons, offline page) is precached: the app must open with no
        // network at all, which is the whole point of the offline gallery.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // Any in-app navigation (hash routing means there is really only one) gets the cached shell.
        navigateFallback: 'index.html',
        // ...but never for server routes: the REST API, signed image files and the Socket.IO
        // endpoint must reach the server (or fail) rather than receive the HTML shell.
        navigateFallbackDenylist: [/\/api\//, /\/files\//, /\/socket\.io\//, /\/sdapi\//],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        runtimeCaching: [
          {
            // A navigation to a server route while offline shows the offline page instead of the
            // browser's error screen.
            urlPattern: ({ request, url }) =>
              request.mode === 'navigate' && /\/(api|files|sdapi)\//.test(url.pathname),
            handler: 'NetworkOnly',
            options: { precacheFallback: { fallbackURL: 'offline.html' } },
          },
          // Deliberately no rule for /api, /socket.io or /files: API answers must be live, and
          // thumbnails/favourites are kept in IndexedDB by the app (signed URLs change with every
          // listing, so a URL-keyed HTTP cache would only ever miss).
        ],
      },
    }),
  ],
}));
