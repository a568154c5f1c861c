// What the app remembers in localStorage: server URL, token, client id, theme. The same build works
// served by the server at `/` (the server is this page's origin) and from GitHub Pages (the user
// enters the tunnel URL), so the default server URL depends on where the app is served from.

export type Theme = 'dark' | 'light';

export interface Settings {
  /** Origin (and optional path) of the Easel server, without a trailing slash; '' = not set. */
  serverUrl: string;
  token: string;
  /** Stable id of this browser install: the server puts its jobs in a room by this id. */
  clientId: string;
  theme: Theme;
}

/** The subset of the Storage API used here, so tests can pass a Map-backed double. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEYS = {
  serverUrl: 'easel.serverUrl',
  token: 'easel.token',
  clientId: 'easel.clientId',
  theme: 'easel.theme',
} as const;

/** Trims whitespace and trailing slashes; adds https:// to a bare host name. */
export function normalizeServerUrl(raw: string): string {
  let s = raw.trim();
  if (!s) return '';
  if (!/^https?:\/\//i.test(s)) s = `${/^(localhost|127\.|\[::1\])/.test(s) ? 'http' : 'https'}://${s}`;
  return s.replace(/\/+$/, '');
}

/** A random URL-safe id (16 bytes of entropy). */
export function newClientId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Loads the settings, creating and storing a client id on first use.
 * `defaultServerUrl` is this page's origin when the server itself serves the app, '' on Pages.
 */
export function loadSettings(store: KeyValueStore, defaultServerUrl: string): Settings {
  let clientId = store.getItem(KEYS.clientId);
  if (!clientId) {
    clientId = newClientId();
    store.setItem(KEYS.clientId, clientId);
  }
  return {
    serverUrl: store.getItem(KEYS.serverUrl) ?? defaultServerUrl,
    token: store.getItem(KEYS.token) ?? '',
    clientId,
    theme: store.getItem(KEYS.theme) === 'light' ? 'light' : 'dark',
  };
}

export function saveSettings(store: KeyValueStore, patch: Partial<Omit<Settings, 'clientId'>>): void {
  if (patch.serverUrl !== undefined) store.setItem(KEYS.serverUrl, normalizeServerUrl(patch.serverUrl));
  if (patch.token !== undefined) {
    if (patch.token) store.setItem(KEYS.token, patch.token.trim());
    else store.removeItem(KEYS.token);
  }
  if (patch.theme !== undefined) store.setItem(KEYS.theme, patch.theme);
}

/** The server URL to use when nothing is stored: same origin unless this is the Pages build. */
export function defaultServerUrlFor(isPagesBuild: boolean, origin: string): string {
  return isPagesBuild ? '' : origin;
}
