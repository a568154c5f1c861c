// The generation parameters the Generate and Inpaint tabs share (prompt, negative prompt, model,
// sampler, schedule, steps, CFG, seed, LoRAs, clip skip, ...): one copy, remembered in
// localStorage so a reload or reconnect never loses it, with a `change` event so that an edit
// in one tab shows in the other. The img2img source image is per tab and never stored.
//
// Public surface: `formStore.get()`, `formStore.update(patch, source)`; event `change`
// (CustomEvent<{ source: unknown }>, the object that made the change).
import { defaultFormState, type GenerationFormState } from '../../logic/generation-form.js';

export const FORM_KEY = 'easel.form';

export type SharedForm = Omit<GenerationFormState, 'initImage'>;

export class FormStore extends EventTarget {
  private state: SharedForm | null = null;

  /** `storage` is resolved at first use, so importing this module never touches localStorage. */
  constructor(private readonly storage: () => Pick<Storage, 'getItem' | 'setItem'>) {
    super();
  }

  get(): SharedForm {
    if (!this.state) this.state = this.load();
    return this.state;
  }

  update(patch: Partial<SharedForm>, source: unknown): void {
    const { initImage: _drop, ...rest } = patch as Partial<GenerationFormState>;
    this.state = { ...this.get(), ...rest };
    try {
      this.storage().setItem(FORM_KEY, JSON.stringify(this.state));
    } catch {
      // Storage full or disabled: the form just is not remembered.
    }
    this.dispatchEvent(new CustomEvent('change', { detail: { source } }));
  }

  private load(): SharedForm {
    const { initImage: _none, ...defaults } = defaultFormState();
    try {
      const raw = this.storage().getItem(FORM_KEY);
      if (raw) {
        const { initImage: _stale, ...saved } = JSON.parse(raw) as Partial<GenerationFormState>;
        return { ...defaults, ...saved };
      }
    } catch {
      // A corrupt saved form is not worth an error: start from the defaults.
    }
    return defaults;
  }
}

export const formStore = new FormStore(() => localStorage);
