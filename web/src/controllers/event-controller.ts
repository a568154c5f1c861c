// Re-renders its host whenever one of the given EventTargets fires one of the given events
// (connection state, job updates, toast changes...), subscribing only while the host is connected.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class EventController implements ReactiveController {
  private readonly listener = (): void => {
    this.onEvent?.();
    this.host.requestUpdate();
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly target: EventTarget,
    private readonly events: readonly string[],
    private readonly onEvent?: () => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    for (const e of this.events) this.target.addEventListener(e, this.listener);
  }

  hostDisconnected(): void {
    for (const e of this.events) this.target.removeEventListener(e, this.listener);
  }
}
