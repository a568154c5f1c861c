// Google Drive backup as the app sees it: the latest `drive:status` (pushed by the server, and
// fetched again on every (re)connect), the calls behind Connect / Finish / Sync now / Restore /
// Disconnect, and the pure helpers that turn a status into words for the header indicator and the
// Settings panel. Components never speak the drive_* actions themselves.
import type { ConnectionManager } from './connection.js';
import type { DriveStatusEvent } from './protocol.js';

export type DriveStatus = DriveStatusEvent;
export type DriveTone = 'ok' | 'busy' | 'warn' | 'error' | 'off';

export interface DriveSummary {
  /** One or two words for the header ("Backed up", "Syncing", "3 waiting"). */
  label: string;
  tone: DriveTone;
  /** A sentence for tooltips and the panel. */
  detail: string;
}

export interface DriveButtons {
  connect: boolean;
  sync: boolean;
  restore: boolean;
  disconnect: boolean;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago" (never in the future: clocks disagree). */
export function relativeTime(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 36) return `${h} h ago`;
  const d = Math.round(h / 24);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

/**
 * Words and a colour for a status; null (no status yet) reads as unknown.
 *
 * @example summarizeDrive({ state: 'connected', pending: 0, ... }, Date.now()).label // 'Backed up'
 */
export function summarizeDrive(s: DriveStatus | null, now: number): DriveSummary {
  if (!s) return { label: 'Drive', tone: 'off', detail: 'The server has not reported a Drive status yet.' };
  const waiting = `${s.pending} image${s.pending === 1 ? '' : 's'} waiting`;
  const last = `last sync ${relativeTime(s.last_sync_at, now)}`;
  switch (s.state) {
    case 'disabled':
      return { label: 'No backup', tone: 'off', detail: 'Drive backup is not set up on this server (see the README: Google Drive backup).' };
    case 'disconnected':
      return { label: 'Not connected', tone: 'warn', detail: `Drive is not connected. ${waiting}.` };
    case 'syncing':
      return { label: 'Syncing', tone: 'busy', detail: `Uploading to Drive: ${waiting}.` };
    case 'restoring': {
      const r = s.restore;
      return { label: 'Restoring', tone: 'busy', detail: r ? `Restoring from Drive: ${r.done} of ${r.total} checked, ${r.added} added.` : 'Restoring from Drive.' };
    }
    case 'error':
      return { label: s.pending > 0 ? `${s.pending} waiting` : 'Drive error', tone: 'error', detail: `${s.last_error?.message ?? 'The last Drive sync failed.'} ${waiting}; ${last}.` };
    case 'connected':
      return s.pending > 0
        ? { label: `${s.pending} waiting`, tone: 'warn', detail: `${waiting}; ${last}.` }
        : { label: 'Backed up', tone: 'ok', detail: `Everything is on Drive; ${last}.` };
  }
}

/** Which buttons make sense in a state (a service account cannot be disconnected from the app). */
export function driveButtons(s: DriveStatus | null, online: boolean): DriveButtons {
  const busy = s?.state === 'syncing' || s?.state === 'restoring';
  const connected = !!s && s.auth !== null && s.state !== 'disabled' && s.state !== 'disconnected';
  return {
    connect: online && s?.state === 'disconnected',
    sync: online && connected && !busy,
    restore: online && connected && !busy,
    disconnect: online && connected && s?.auth === 'oauth' && !busy,
  };
}

/** Whether a paste looks like the redirect URL (with a code) or a bare code, before sending it. */
export function looksLikeAuthPaste(text: string): boolean {
  const t = text.trim();
  if (/^https?:\/\//i.test(t)) {
    try {
      return new URL(t).searchParams.has('code');
    } catch {
      return false;
    }
  }
  return /^[\w./~+-]{10,}$/.test(t);
}

/**
 * The app's Drive state: the last status seen, refreshed on every (re)connect, and the actions.
 * Fires `change` whenever the status changes.
 */
export class DriveTracker extends EventTarget {
  private _status: DriveStatus | null = null;

  constructor(private readonly conn: ConnectionManager) {
    super();
    conn.on('drive:status', (s) => this.set(s));
    conn.addEventListener('state', () => {
      if (conn.state === 'connected') void this.refresh().catch(() => undefined);
    });
    if (conn.state === 'connected') void this.refresh().catch(() => undefined);
  }

  get status(): DriveStatus | null {
    return this._status;
  }

  private set(s: DriveStatus): void {
    this._status = s;
    this.dispatchEvent(new Event('change'));
  }

  async refresh(): Promise<DriveStatus> {
    const { status } = await this.conn.request('drive_status', {}, { queue: false });
    this.set(status);
    return status;
  }

  /** Starts the consent flow; resolves with the Google URL to open. */
  async startConnect(): Promise<string> {
    const r = await this.conn.request('drive_connect', {}, { queue: false });
    this.set(r.status);
    if (!r.auth_url) return '';
    return r.auth_url;
  }

  /** Sends what the user pasted (the redirect URL or the code). */
  async finishConnect(pasted: string): Promise<DriveStatus> {
    const r = await this.conn.request('drive_connect', { code: pasted.trim() }, { queue: false });
    this.set(r.status);
    return r.status;
  }

  async sync(): Promise<boolean> {
    const r = await this.conn.request('drive_sync', {}, { queue: false });
    this.set(r.status);
    return r.started;
  }

  async restore(): Promise<boolean> {
    const r = await this.conn.request('drive_restore', {}, { queue: false });
    this.set(r.status);
    return r.started;
  }

  async disconnect(): Promise<DriveStatus> {
    const r = await this.conn.request('drive_disconnect', {}, { queue: false });
    this.set(r.status);
    return r.status;
  }
}

const trackers = new WeakMap<ConnectionManager, DriveTracker>();

/** The one tracker of a connection, shared by the header indicator and the Settings panel. */
export function driveTracker(conn: ConnectionManager): DriveTracker {
  let t = trackers.get(conn);
  if (!t) trackers.set(conn, (t = new DriveTracker(conn)));
  return t;
}
