// Registration of the Workbox service worker made by vite-plugin-pwa. `navigator.serviceWorker.ready`
// resolves once the shell is precached, which is what "works offline" means for the app.
import { registerSW } from 'virtual:pwa-register';

/** True once a service worker controls this page (the shell is then available offline). */
export function offlineReady(): Promise<boolean> {
  if (!('serviceWorker' in navigator)) return Promise.resolve(false);
  return navigator.serviceWorker.ready.then(() => true);
}

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  // autoUpdate: a new build activates immediately (skipWaiting + clientsClaim in the config).
  registerSW({ immediate: true });
}
