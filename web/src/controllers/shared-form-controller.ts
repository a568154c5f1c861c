// Keeps a tab in step with the generation parameters it shares with the other tab
// (components/generate/form-store.ts): hands the host the stored form when it connects and after
// every change another tab makes, and writes the host's own edits under its name so they do not
// come back to it.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { formStore, type SharedForm } from '../components/generate/form-store.js';

export class SharedFormController implements ReactiveController {
  private readonly onChange = (e: Event): void => {
    if ((e as CustomEvent<{ source: unknown }>).detail.source !== this.host) this.onForm(formStore.get());
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly onForm: (form: SharedForm) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    formStore.addEventListener('change', this.onChange);
    // Edits made in the other tab while this one was not connected.
    this.onForm(formStore.get());
  }

  hostDisconnected(): void {
    formStore.removeEventListener('change', this.onChange);
  }

  /** Stores the host's edit; the other tab hears of it. */
  update(patch: Partial<SharedForm>): void {
    formStore.update(patch, this.host);
  }

  get(): SharedForm {
    return formStore.get();
  }
}
