// The IO lane: downloads and uploads run here, beside the GPU lane, with their own concurrency
// limit so a slow download never holds up generation and a burst never opens 200 sockets.

export interface IoTask<T> {
  (signal: AbortSignal): Promise<T>;
}

export class IoLane {
  private activeCount = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly controllers = new Set<AbortController>();
  private closed = false;

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }

  get active(): number {
    return this.activeCount;
  }

  get pending(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` when a slot is free; resolves with its result.
   *
   * @example await lane.run((signal) => download(url, { signal }))
   */
  async run<T>(task: IoTask<T>): Promise<T> {
    if (this.closed) throw new Error('the IO lane is closed');
    if (this.activeCount >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.closed) throw new Error('the IO lane is closed');
    this.activeCount++;
    const controller = new AbortController();
    this.controllers.add(controller);
    try {
      return await task(controller.signal);
    } finally {
      this.controllers.delete(controller);
      this.activeCount--;
      this.waiting.shift()?.();
    }
  }

  /** Aborts running tasks and refuses new ones (shutdown). */
  close(): void {
    this.closed = true;
    for (const c of this.controllers) c.abort();
    for (const w of this.waiting.splice(0)) w();
  }
}
