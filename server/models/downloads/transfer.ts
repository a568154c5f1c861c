// One resumable transfer into a `.part` file: asks for `Range: bytes=N-` when a partial exists,
// appends on 206 and starts over on 200, hashes as it writes (the partial is re-read once to seed
// the hash), reports throttled progress with speed and ETA, and retries dropped connections and
// 5xx/429 answers a few times, each retry resuming where the last one stopped.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { EaselError, isEaselError } from '../../protocol/errors.js';
import { isDiskFullError } from '../../reliability/disk-guard.js';
import type { AddressPolicy } from './address-guard.js';
import { openUrl, statusError, TransientError } from './http-client.js';

export interface TransferProgress {
  received_bytes: number;
  total_bytes: number | null;
  speed_bps: number;
  eta_s: number | null;
}

export interface TransferOptions {
  url: string;
  headers: Record<string, string>;
  partPath: string;
  policy: AddressPolicy;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: TransferProgress) => void) | undefined;
  /** Called once the total is known (or with null), before any body byte is written; throws to refuse. */
  beforeBody?: (info: { total: number | null; alreadyHave: number }) => Promise<void>;
  /** The most bytes the file may reach; the transfer aborts past it (unknown-length answers). */
  maxBytes?: number;
  /** Waits between retries; its length is the number of retries. */
  retryDelaysMs?: readonly number[];
  progressIntervalMs?: number;
  idleTimeoutMs?: number;
  now?: () => number;
}

export interface TransferResult {
  size: number;
  sha256: string;
  /** Headers of the redirect answers of the last attempt (Hugging Face puts `x-linked-etag` there). */
  redirects: IncomingHttpHeaders[];
  /** Headers of the final answer. */
  headers: IncomingHttpHeaders;
  /** Whether some bytes came from an earlier partial (a resumed transfer). */
  resumed: boolean;
}

export const DEFAULT_RETRY_DELAYS_MS = [1000, 4000, 15000] as const;
const PROGRESS_INTERVAL_MS = 250;

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashOf(path: string, bytes: number): Promise<Hash> {
  const h = createHash('sha256');
  if (bytes > 0) for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  return h;
}

/** `bytes 100-199/200` → { start: 100, total: 200 }. */
export function parseContentRange(header: string | undefined): { start: number; total: number | null } | undefined {
  const m = header ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** Speed as an exponential moving average of throttled samples, so the ETA does not jump around. */
class SpeedMeter {
  private last: { t: number; bytes: number } | undefined;
  private bps = 0;
  constructor(private readonly now: () => number) {}
  sample(bytes: number): number {
    const t = this.now();
    if (!this.last) this.last = { t, bytes };
    const dt = (t - this.last.t) / 1000;
    if (dt >= 0.2) {
      const inst = (bytes - this.last.bytes) / dt;
      this.bps = this.bps === 0 ? inst : 0.7 * this.bps + 0.3 * inst;
      this.last = { t, bytes };
    }
    return this.bps;
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(cancelled());
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const cancelled = (): EaselError => new EaselError('cancelled', 'the download was cancelled');

function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if (isEaselError(err)) return false;
  // A full disk does not get better by downloading again.
  if (isDiskFullError(err)) return false;
  const code = (err as { code?: string }).code;
  // Network errors from node:http; an aborted request (our signal) or an unknown host is not transient.
  if (code === 'ABORT_ERR' || code === 'ENOTFOUND') return false;
  return code === undefined || /^E[A-Z]+$/.test(code);
}

/**
 * Downloads `url` into `partPath`, resuming what is there. Resolves when the answer's body has
 * fully arrived (size checked against Content-Length / Content-Range); the caller verifies
 * the content and renames.
 */
export async function transfer(opts: TransferOptions): Promise<TransferResult> {
  const now = opts.now ?? Date.now;
  const delays = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  let checked = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptOnce(opts, now, async (info) => {
        // The space check runs once: retries resume the same file.
        if (checked || !opts.beforeBody) return;
        checked = true;
        await opts.beforeBody(info);
      });
    } catch (err) {
      if (opts.signal?.aborted) throw cancelled();
      if (!isTransient(err) || attempt >= delays.length) {
        if (isEaselError(err)) throw err;
        if (isDiskFullError(err)) throw new EaselError('insufficient_space', 'the disk filled up during the download; free some space and download again', { cause: err });
        throw new EaselError('download_failed', `download failed: ${(err as Error).message}`, { cause: err });
      }
      await sleep(delays[attempt]!, opts.signal);
    }
  }
}

async function attemptOnce(opts: TransferOptions, now: () => number, beforeBody: (info: { total: number | null; alreadyHave: number }) => Promise<void>): Promise<TransferResult> {
  let have = await fileSize(opts.partPath);
  const headers: Record<string, string> = { ...opts.headers, 'accept-encoding': 'identity' };
  if (have > 0) headers.range = `bytes=${have}-`;
  const { res, redirects } = await openUrl(opts.url, { headers, policy: opts.policy, signal: opts.signal, ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}) });
  const status = res.statusCode ?? 0;
  let total: number | null;
  const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
  if (status === 206 && have > 0) {
    const range = parseContentRange(res.headers['content-range']);
    if (!range || range.start !== have) {
      res.destroy();
      // A server that answers a different range than asked: start over rather than guess.
      await truncate(opts.partPath, 0);
      throw new TransientError(`the server answered range ${res.headers['content-range'] ?? '(none)'} to bytes=${have}-`);
    }
    total = range.total ?? (length !== null ? have + length : null);
  } else if (status === 200) {
    if (have > 0) await truncate(opts.partPath, 0); // no range support: start again from 0
    have = 0;
    total = length;
  } else if (status === 416 && have > 0) {
    res.resume();
    // The partial is already as long as (or longer than) the file: start over to be sure of it.
    await truncate(opts.partPath, 0);
    throw new TransientError('range not satisfiable; restarting from the beginning');
  } else {
    res.resume();
    throw statusError(status, `GET ${new URL(opts.url).host}`);
  }
  if (total !== null && opts.maxBytes !== undefined && total > opts.maxBytes) {
    res.destroy();
    throw new EaselError('insufficient_space', `the file is ${total} bytes, more than the ${opts.maxBytes} bytes allowed`);
  }
  try {
    await beforeBody({ total, alreadyHave: have });
  } catch (err) {
    res.destroy();
    throw err;
  }

  const hash = await hashOf(opts.partPath, have);
  const handle = await open(opts.partPath, have > 0 ? 'a' : 'w');
  const resumed = have > 0;
  let received = have;
  const meter = new SpeedMeter(now);
  const interval = opts.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  let lastReport = 0;
  const report = (force: boolean): void => {
    if (!opts.onProgress) return;
    const t = now();
    const speed = meter.sample(received);
    if (!force && t - lastReport < interval) return;
    lastReport = t;
    const eta = total !== null && speed > 0 ? Math.max(0, (total - received) / speed) : null;
    opts.onProgress({ received_bytes: received, total_bytes: total, speed_bps: Math.round(speed), eta_s: eta === null ? null : Math.round(eta * 10) / 10 });
  };
  try {
    report(true);
    for await (const chunk of res) {
      const buf = chunk as Buffer;
      if (total !== null && received + buf.length > total) throw new EaselError('download_failed', `the server sent more than the announced ${total} bytes`);
      if (opts.maxBytes !== undefined && received + buf.length > opts.maxBytes) {
        throw new EaselError('insufficient_space', `the file grew past the ${opts.maxBytes} bytes of free space allowed`);
      }
      await handle.write(buf);
      hash.update(buf);
      received += buf.length;
      report(false);
    }
  } catch (err) {
    res.destroy();
    throw err;
  } finally {
    await handle.close();
  }
  if (total !== null && received !== total) throw new TransientError(`the connection closed after ${received} of ${total} bytes`);
  report(true);
  return { size: received, sha256: hash.digest('hex'), redirects, headers: res.headers, resumed };
}
