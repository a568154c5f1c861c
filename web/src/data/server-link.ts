// Remembered servers and the link that adds one. A Colab session prints
// `https://<pages>/#server=<url>&token=<t>[&name=<label>]`: everything sits in the fragment, which
// browsers never send to a server, and the app removes it from the address bar at once so the
// token does not linger in history, bookmarks or screenshots. Several servers are remembered
// (a laptop, this week's Colab tunnel, ...); one is active, and it is mirrored into the settings'
// serverUrl/token (settings.ts), which is what the connection manager is configured with.
import { newClientId, normalizeServerUrl, type KeyValueStore } from './settings.js';

export interface SavedServer {
  id: string;
  /** What the list shows; the host name unless the link or the user gave one. */
  name: string;
  serverUrl: string;
  token: string;
}

export interface ServerBook {
  servers: SavedServer[];
  activeId: string | null;
}

/** What a `#server=...` link carries. */
export interface ServerLink {
  serverUrl: string;
  token: string;
  name?: string;
}

const KEYS = {
  servers: 'easel.servers',
  active: 'easel.activeServer',
  // The single server setting of settings.ts: the source of the one-time migration.
  legacyUrl: 'easel.serverUrl',
  legacyToken: 'easel.token',
} as const;

const MAX_NAME = 60;

/** A normalized http(s) server URL, or null when `raw` is not one. */
export function validServerUrl(raw: string): string | null {
  // normalizeServerUrl adds https:// to anything without http(s); another scheme is no server.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw.trim()) && !/^https?:\/\//i.test(raw.trim())) return null;
  const url = normalizeServerUrl(raw);
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** The label a server gets when none is given: its host (with the port when there is one). */
export function defaultServerName(serverUrl: string): string {
  try {
    return new URL(serverUrl).host;
  } catch {
    return serverUrl;
  }
}

function cleanName(name: string | undefined | null, serverUrl: string): string {
  const n = (name ?? '').trim().slice(0, MAX_NAME);
  return n || defaultServerName(serverUrl);
}

/**
 * The server link in a location hash, or null when the hash is not one (a tab route, `#token=`
 * alone, or a `server` that is not an http(s) URL).
 *
 * @example parseServerLink('#server=https%3A%2F%2Fa.trycloudflare.com&token=t') // { serverUrl: 'https://a.trycloudflare.com', token: 't' }
 */
export function parseServerLink(hash: string): ServerLink | null {
  const params = new URLSearchParams(hash.replace(/^#\/?\??/, ''));
  const raw = params.get('server');
  if (raw === null) return null;
  const serverUrl = validServerUrl(raw);
  if (!serverUrl) return null;
  const link: ServerLink = { serverUrl, token: (params.get('token') ?? '').trim() };
  const name = params.get('name')?.trim();
  if (name) link.name = name.slice(0, MAX_NAME);
  return link;
}

function isSavedServer(v: unknown): v is SavedServer {
  if (!v || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return typeof s.id === 'string' && typeof s.name === 'string' && typeof s.serverUrl === 'string' && typeof s.token === 'string';
}

/**
 * Loads the remembered servers. The first time (no list stored yet) the single server of the
 * older settings becomes the list's first entry, so an upgrade keeps the user connected.
 */
export function loadServerBook(store: KeyValueStore): ServerBook {
  const raw = store.getItem(KEYS.servers);
  if (raw === null) {
    const url = validServerUrl(store.getItem(KEYS.legacyUrl) ?? '');
    if (!url) return { servers: [], activeId: null };
    const server: SavedServer = { id: newClientId(), name: defaultServerName(url), serverUrl: url, token: store.getItem(KEYS.legacyToken) ?? '' };
    const book = { servers: [server], activeId: server.id };
    saveServerBook(store, book);
    return book;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = [];
  }
  const servers = Array.isArray(parsed) ? parsed.filter(isSavedServer) : [];
  const active = store.getItem(KEYS.active);
  return { servers, activeId: servers.some((s) => s.id === active) ? active : null };
}

export function saveServerBook(store: KeyValueStore, book: ServerBook): void {
  store.setItem(KEYS.servers, JSON.stringify(book.servers));
  if (book.activeId) store.setItem(KEYS.active, book.activeId);
  else store.removeItem(KEYS.active);
}

export function activeServer(book: ServerBook): SavedServer | null {
  return book.servers.find((s) => s.id === book.activeId) ?? null;
}

/**
 * Adds a server, or updates the one with the same URL (a new token from a fresh link replaces the
 * old; a name given replaces the old name), and makes it active. Returns a new book.
 */
export function rememberServer(book: ServerBook, link: ServerLink): { book: ServerBook; server: SavedServer } {
  const serverUrl = validServerUrl(link.serverUrl);
  if (!serverUrl) throw new TypeError(`not an http(s) server URL: "${link.serverUrl}"`);
  const existing = book.servers.find((s) => s.serverUrl === serverUrl);
  const server: SavedServer = existing
    ? { ...existing, token: link.token.trim(), name: link.name?.trim() ? cleanName(link.name, serverUrl) : existing.name }
    : { id: newClientId(), name: cleanName(link.name, serverUrl), serverUrl, token: link.token.trim() };
  const servers = existing ? book.servers.map((s) => (s.id === server.id ? server : s)) : [...book.servers, server];
  return { book: { servers, activeId: server.id }, server };
}

export function switchServer(book: ServerBook, id: string): ServerBook {
  if (!book.servers.some((s) => s.id === id)) return book;
  return { ...book, activeId: id };
}

/** Forgets a server; forgetting the active one activates the first remaining (or none). */
export function forgetServer(book: ServerBook, id: string): ServerBook {
  const servers = book.servers.filter((s) => s.id !== id);
  const activeId = book.activeId === id ? (servers[0]?.id ?? null) : book.activeId;
  return { servers, activeId };
}

/**
 * Brings the book in line with the connection settings when they changed elsewhere (the
 * server's own `#token=` link, or an app that was served by a server and never saved a list).
 */
export function syncWithSettings(book: ServerBook, current: { serverUrl: string; token: string }): ServerBook {
  const url = validServerUrl(current.serverUrl);
  if (!url) return book;
  const active = activeServer(book);
  if (active && active.serverUrl === url && active.token === current.token) return book;
  if (!current.token && !book.servers.some((s) => s.serverUrl === url)) return book;
  const existing = book.servers.find((s) => s.serverUrl === url);
  return rememberServer(book, { serverUrl: url, token: current.token, name: existing?.name ?? '' }).book;
}

export interface LinkLocation {
  hash: string;
  pathname: string;
  search: string;
}

export interface LinkHistory {
  replaceState(data: unknown, unused: string, url?: string | URL | null): void;
}

/**
 * At start-up: if the address carries a server link, remembers that server as the active one and
 * removes the whole fragment from the address bar (replaceState: no history entry keeps it).
 * Returns the server to connect to, or null when there was no link. The caller reconfigures the
 * connection (services.updateSettings) with the result.
 *
 * @example const s = takeServerLink(location, history, localStorage); if (s) updateSettings({ serverUrl: s.serverUrl, token: s.token });
 */
export function takeServerLink(loc: LinkLocation, hist: LinkHistory, store: KeyValueStore): SavedServer | null {
  if (!/(^#|[&?])server=/.test(loc.hash)) return null;
  const link = parseServerLink(loc.hash);
  // Even a malformed link leaves the address bar: it may still hold a token.
  hist.replaceState(null, '', `${loc.pathname}${loc.search}`);
  if (!link) return null;
  const { book, server } = rememberServer(loadServerBook(store), link);
  saveServerBook(store, book);
  return server;
}
