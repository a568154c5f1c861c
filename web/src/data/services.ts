// The app's single set of data services (connection, gallery, jobs, token counter, settings),
// created once at start. Components import the functions they need from here rather than
// receiving one god object; tests construct the classes directly instead.
import { GalleryDb } from '../storage/gallery-db.js';
import { ConnectionManager } from './connection.js';
import { GalleryService } from './gallery.js';
import type { RestTarget } from './http.js';
import { JobTracker } from './jobs.js';
import { defaultServerUrlFor, loadSettings, saveSettings, type Settings } from './settings.js';
import { TokenCounter } from './tokenize.js';

let settings: Settings = loadSettings(localStorage, defaultServerUrlFor(import.meta.env.MODE === 'pages', location.origin));

export const connection = new ConnectionManager();
export const galleryDb = new GalleryDb();
const restTarget = (): RestTarget => ({ serverUrl: settings.serverUrl, token: settings.token });
export const gallery = new GalleryService(connection, galleryDb, restTarget);
export const jobs = new JobTracker(connection);
export const tokens = new TokenCounter(restTarget, () => connection.state === 'connected');

export function currentSettings(): Settings {
  return settings;
}

export function rest(): RestTarget {
  return restTarget();
}

/** Saves settings and reconnects when the server URL or token changed. */
export function updateSettings(patch: Partial<Omit<Settings, 'clientId'>>): Settings {
  saveSettings(localStorage, patch);
  const before = settings;
  settings = loadSettings(localStorage, defaultServerUrlFor(import.meta.env.MODE === 'pages', location.origin));
  if (before.serverUrl !== settings.serverUrl || before.token !== settings.token || connection.state === 'unauthorized') {
    connection.configure({ serverUrl: settings.serverUrl, token: settings.token, clientId: settings.clientId });
  }
  return settings;
}

/** Connects with the stored settings and wires reconnect-related behaviour; called once by the shell. */
export function startServices(): void {
  connection.configure({ serverUrl: settings.serverUrl, token: settings.token, clientId: settings.clientId });
  // The browser knows before socket.io's next 5 s tick that the network is back.
  window.addEventListener('online', () => connection.reconnectNow());
  void galleryDb.requestPersistence().catch(() => false);
}
