// Gives the Generate and Inpaint tabs the server's form lists (samplers, schedules, checkpoints,
// VAEs, LoRAs with trigger words): /api/info, enriched by the model registry (get_models), loaded
// on connect and again whenever the server says its models changed (a download finished).
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { toastError } from '../app/toasts.js';
import { EaselClientError } from '../data/errors.js';
import { FALLBACK_INFO, fetchServerInfo, withRegistry, type ServerInfo } from '../data/info.js';
import { fetchRegistryLists, onModelsChanged } from '../data/models.js';
import { connection, rest } from '../data/services.js';

export class ServerInfoController implements ReactiveController {
  /** The built-in lists until the server answers (and while offline). */
  info: ServerInfo = FALLBACK_INFO;
  private offModels: (() => void) | null = null;
  /** Only the newest load may land: a slow answer must not overwrite a newer one. */
  private generation = 0;

  private readonly onState = (): void => {
    if (connection.state === 'connected') void this.load();
  };

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    connection.addEventListener('state', this.onState);
    this.offModels = onModelsChanged(connection, () => void this.load());
    this.onState();
  }

  hostDisconnected(): void {
    connection.removeEventListener('state', this.onState);
    this.offModels?.();
    this.offModels = null;
  }

  async load(): Promise<void> {
    const mine = ++this.generation;
    let info: ServerInfo;
    try {
      info = await fetchServerInfo(rest());
    } catch (err) {
      // The form still works with the built-in lists; say why the server's are missing.
      if (err instanceof EaselClientError && err.code !== 'network') toastError(err);
      return;
    }
    try {
      info = withRegistry(info, await fetchRegistryLists(connection));
    } catch {
      // An older server or a dropped socket: /api/info's lists are enough to generate.
    }
    if (mine !== this.generation) return;
    this.info = info;
    this.host.requestUpdate();
  }
}
