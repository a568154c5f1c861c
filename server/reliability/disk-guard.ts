// Watches the disk that holds DATA_DIR. A full disk must never take the server down: writes that
// fail with ENOSPC (files) or SQLITE_FULL (the database) are turned into `insufficient_space`, the
// guard flips to "full", and new work (jobs, downloads) is refused with that code until a check of
// the free space (every few seconds while full) says it is back. Queued jobs wait; nothing is lost.
import { statfs } from 'node:fs/promises';
import { EaselError } from '../protocol/errors.js';
import type { DiskStatus } from '../protocol/events.js';

/** Error codes of a full disk or quota: node fs (ENOSPC, EDQUOT) and better-sqlite3 (SQLITE_FULL). */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Is this error a full disk (or quota), whatever layer raised it? */
export function isDiskFullError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && FULL_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    // sharp/libvips report a failed write as text only.
    if (typeof message === 'string' && /no space left on device|database or disk is full|disk quota exceeded/i.test(message)) return true;
  }
  return false;
}

export interface DiskGuardOptions {
  /** The folder whose filesystem is watched (DATA_DIR). */
  dir: string;
  /** Below this many free bytes the disk counts as full. */
  minFreeBytes: number;
  /** How often free space is checked while full (and, slower, while not). */
  pollMs?: number;
  /** Reads free bytes; tests inject failures here. */
  freeBytes?: (dir: string) => Promise<number>;
  /** Every change of state (full → ok, ok → full). */
  onChange?: (status: DiskStatus) => void;
}

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export class DiskGuard {
  private full = false;
  private since: string | undefined;
  private reason: string | undefined;
  private lastFree: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(private readonly o: DiskGuardOptions) {}

  get isFull(): boolean {
    return this.full;
  }

  status(): DiskStatus {
    const s: DiskStatus = { ok: !this.full, free_bytes: this.lastFree, min_free_bytes: this.o.minFreeBytes };
    if (this.full) {
      s.message = this.reason ?? 'the disk holding the gallery is full';
      if (this.since) s.since = this.since;
    }
    return s;
  }

  /** Checks now and keeps checking (fast while full, so work resumes soon after space returns). */
  start(): Promise<void> {
    const tick = (): void => {
      const pollMs = this.o.pollMs ?? 5000;
      this.timer = setTimeout(() => void this.check().finally(tick), this.full ? pollMs : pollMs * 6);
      this.timer.unref();
    };
    return this.check().finally(tick);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reads the free space and updates the state. Never throws. */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const free = await (this.o.freeBytes ?? statfsFree)(this.o.dir);
        this.lastFree = free;
        if (free < this.o.minFreeBytes) this.setFull(`only ${free} bytes are free on the disk holding the gallery (at least ${this.o.minFreeBytes} needed)`);
        else this.setOk();
      } catch (err) {
        // Cannot tell: keep the state. A write failure still flips it.
        void err;
      }
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** Throws `insufficient_space` while the disk is full (new jobs, downloads, uploads of files). */
  assertSpace(): void {
    if (this.full) throw this.error();
  }

  /**
   * Classifies a failure: a full disk becomes `insufficient_space` (and flips the guard); anything
   * else is not ours to name (undefined).
   */
  classify(err: unknown): EaselError | undefined {
    if (!isDiskFullError(err)) return undefined;
    this.setFull('the disk holding the gallery is full: a write failed');
    return this.error();
  }

  private error(): EaselError {
    return new EaselError('insufficient_space', `${this.reason ?? 'the disk holding the gallery is full'}; free some space: new work resumes by itself`);
  }

  private setFull(reason: string): void {
    this.reason = reason;
    if (this.full) return;
    this.full = true;
    this.since = new Date().toISOString();
    this.o.onChange?.(this.status());
    // Come back soon to see whether space returned.
    if (this.timer) {
      this.stop();
      void this.start();
    }
  }

  private setOk(): void {
    if (!this.full) return;
    this.full = false;
    this.since = undefined;
    this.reason = undefined;
    this.o.onChange?.(this.status());
  }
}
