// A debounced async computation tied to a component's lifetime (used for the server token
// count): the latest input wins, results of superseded calls are dropped.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class DebouncedTask<I, O> implements ReactiveController {
  value: O;
  private timer: number | undefined;
  private generation = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly run: (input: I) => Promise<O>,
    initial: O,
    private readonly delayMs = 300,
  ) {
    this.value = initial;
    host.addController(this);
  }

  /** Schedules a run; `immediate` is shown until the debounced result arrives. */
  schedule(input: I, immediate?: O): void {
    if (immediate !== undefined) this.value = immediate;
    window.clearTimeout(this.timer);
    const gen = ++this.generation;
    this.timer = window.setTimeout(() => {
      this.run(input).then(
        (v) => {
          if (gen !== this.generation) return;
          this.value = v;
          this.host.requestUpdate();
        },
        () => undefined,
      );
    }, this.delayMs);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    window.clearTimeout(this.timer);
    this.generation++;
  }
}
