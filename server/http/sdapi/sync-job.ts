// A1111's API answers txt2img/img2img synchronously, but a Cloudflare quick tunnel drops a request
// whose answer has not started within 100 s. So while the job runs, once `keepAliveMs` passes the
// status line and headers go out (200, JSON) and a space follows every `keepAliveMs`: leading
// whitespace is valid JSON, so every client parses the body that comes at the end unchanged.
import type { Response } from 'express';
import type { JobStatusEvent } from '../../protocol/events.js';

export interface KeepAlive {
  /** True once the status line has gone out (the answer must then be 200). */
  readonly started: boolean;
  /** Sends the final JSON body (the status only counts when nothing was sent yet). */
  finish(status: number, body: unknown): void;
  stop(): void;
}

/**
 * Starts the keep-alive timer on a response.
 *
 * @example const ka = keepAlive(res, 30_000); ...; ka.finish(200, answer)
 */
export function keepAlive(res: Response, keepAliveMs: number): KeepAlive {
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    if (res.writableEnded || res.destroyed) return;
    if (!started) {
      started = true;
      res.status(200);
      res.setHeader('Content-Type', 'application/json');
      // Proxies that buffer (nginx) would hold the spaces back; ask them not to.
      res.setHeader('X-Accel-Buffering', 'no');
      res.setHeader('Cache-Control', 'no-store');
    }
    res.write(' ');
    timer = setTimeout(tick, keepAliveMs);
  };
  if (keepAliveMs > 0) timer = setTimeout(tick, keepAliveMs);
  const stop = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return {
    get started() {
      return started;
    },
    finish(status, body) {
      stop();
      if (res.writableEnded || res.destroyed) return;
      if (started) res.end(JSON.stringify(body));
      else res.status(status).json(body);
    },
    stop,
  };
}

/**
 * Waits for a job's end while the client stays; when the client goes away first, `onAbandon` runs
 * (the caller cancels work nobody will see) and the wait still resolves with the job's end.
 */
export async function awaitJob(res: Response, finished: Promise<JobStatusEvent>, onAbandon: () => void): Promise<JobStatusEvent> {
  const onClose = (): void => {
    if (!res.writableEnded) onAbandon();
  };
  res.on('close', onClose);
  try {
    return await finished;
  } finally {
    res.off('close', onClose);
  }
}
