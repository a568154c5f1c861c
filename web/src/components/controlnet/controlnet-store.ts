// The ControlNet units, kept with the other Generate settings: one copy in localStorage (so a
// reload, an offline start or a reconnect keeps them), a `change` event for the Generate tab's
// summary. Control images are data URLs; when they do not fit the storage quota the settings are
// kept without them rather than not at all.
//
// Public surface: `controlNetStore.get()`, `.set(units)`, `.enabledCount()`; event `change`.
import { defaultControlUnit, defaultControlUnits, MAX_CONTROL_UNITS, type ControlUnitState } from '../../logic/controlnet-form.js';
import type { InitImage } from '../../logic/generation-form.js';

export const CONTROLNET_KEY = 'easel.controlnet';

export class ControlNetStore extends EventTarget {
  private units: ControlUnitState[] | null = null;

  constructor(private readonly storage: () => Pick<Storage, 'getItem' | 'setItem'>) {
    super();
  }

  get(): ControlUnitState[] {
    this.units ??= this.load();
    return this.units;
  }

  set(units: ControlUnitState[]): void {
    this.units = units;
    try {
      this.storage().setItem(CONTROLNET_KEY, JSON.stringify(units));
    } catch {
      try {
        this.storage().setItem(CONTROLNET_KEY, JSON.stringify(units.map((u) => ({ ...u, image: null }))));
      } catch {
        // Storage disabled: the units live until the page closes.
      }
    }
    this.dispatchEvent(new Event('change'));
  }

  enabledCount(): number {
    return this.get().filter((u) => u.enabled).length;
  }

  /** A control image for unit `index` (switching it on). */
  setImage(index: number, image: InitImage): void {
    this.set(this.get().map((u, i) => (i === index ? { ...u, image, enabled: true } : u)));
  }

  private load(): ControlUnitState[] {
    try {
      const raw = this.storage().getItem(CONTROLNET_KEY);
      if (raw) {
        const saved = JSON.parse(raw) as Partial<ControlUnitState>[];
        return Array.from({ length: MAX_CONTROL_UNITS }, (_, i) => ({ ...defaultControlUnit(), ...(saved[i] ?? {}) }));
      }
    } catch {
      // A corrupt saved state starts over from the defaults.
    }
    return defaultControlUnits();
  }
}

export const controlNetStore = new ControlNetStore(() => localStorage);

/** The Inpaint tab's current source image, offered as a control image ("Canvas"). */
let canvasImage: InitImage | null = null;
export function setCanvasImage(image: InitImage | null): void {
  canvasImage = image;
}
export function currentCanvasImage(): InitImage | null {
  return canvasImage;
}
