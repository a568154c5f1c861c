// The Generate form's LoRA slots: up to 7 (name, weight) pairs, as the protocol's `loras` field
// allows, with the trigger words the server knows for each LoRA. Pure: the form component holds
// the array and replaces it with what these functions return.

export const MAX_LORA_SLOTS = 7;
export const LORA_WEIGHT_MIN = -10;
export const LORA_WEIGHT_MAX = 10;
export const DEFAULT_LORA_WEIGHT = 1;

export interface LoraSlot {
  /** Registry name; empty while the slot is not filled in. */
  name: string;
  weight: number;
}

/** A LoRA the server lists (/api/info, or the registry with the file's metadata); `trigger_words` only when known. */
export interface LoraInfo {
  name: string;
  trigger_words?: readonly string[];
}

export function emptySlot(): LoraSlot {
  return { name: '', weight: DEFAULT_LORA_WEIGHT };
}

/** Adds an empty slot; at the limit the array is returned unchanged. */
export function addSlot(slots: readonly LoraSlot[]): LoraSlot[] {
  return slots.length >= MAX_LORA_SLOTS ? [...slots] : [...slots, emptySlot()];
}

export function removeSlot(slots: readonly LoraSlot[], index: number): LoraSlot[] {
  return slots.filter((_, i) => i !== index);
}

export function updateSlot(slots: readonly LoraSlot[], index: number, patch: Partial<LoraSlot>): LoraSlot[] {
  return slots.map((s, i) => (i === index ? { ...s, ...patch } : s));
}

export function canAddSlot(slots: readonly LoraSlot[]): boolean {
  return slots.length < MAX_LORA_SLOTS;
}

/** Per-slot problems, keyed by slot index (only slots with a name are checked). */
export function validateSlots(slots: readonly LoraSlot[], known?: readonly LoraInfo[]): Map<number, string> {
  const errors = new Map<number, string>();
  const seen = new Set<string>();
  slots.forEach((s, i) => {
    if (!s.name) return;
    if (!Number.isFinite(s.weight) || s.weight < LORA_WEIGHT_MIN || s.weight > LORA_WEIGHT_MAX) {
      errors.set(i, `weight must be between ${LORA_WEIGHT_MIN} and ${LORA_WEIGHT_MAX}, got ${s.weight}`);
    } else if (seen.has(s.name)) {
      errors.set(i, `"${s.name}" is already in another slot`);
    } else if (known && known.length > 0 && !known.some((k) => k.name === s.name)) {
      errors.set(i, `unknown LoRA "${s.name}"`);
    }
    seen.add(s.name);
  });
  return errors;
}

/** The protocol's `loras` list: filled slots only, in slot order. */
export function slotsToParams(slots: readonly LoraSlot[]): { name: string; weight: number }[] {
  return slots.filter((s) => s.name !== '').map((s) => ({ name: s.name, weight: s.weight }));
}

/** Slots from a parameter list (e.g. "use these parameters" from the gallery), capped at the limit. */
export function slotsFromParams(loras: readonly { name: string; weight?: number }[]): LoraSlot[] {
  return loras.slice(0, MAX_LORA_SLOTS).map((l) => ({ name: l.name, weight: l.weight ?? DEFAULT_LORA_WEIGHT }));
}

/** Trigger words for the filled slots, for display under each slot. */
export function triggerWordsFor(name: string, known: readonly LoraInfo[]): readonly string[] {
  return known.find((k) => k.name === name)?.trigger_words ?? [];
}

/**
 * One LoRA list from two sources (/api/info's names and the registry's entries with metadata):
 * every name once, in first-seen order, with the first non-empty trigger words either source has.
 */
export function mergeLoraInfo(a: readonly LoraInfo[], b: readonly LoraInfo[]): LoraInfo[] {
  const byName = new Map<string, LoraInfo>();
  for (const l of [...a, ...b]) {
    const seen = byName.get(l.name);
    if (!seen) byName.set(l.name, l.trigger_words?.length ? { name: l.name, trigger_words: l.trigger_words } : { name: l.name });
    else if (!seen.trigger_words?.length && l.trigger_words?.length) byName.set(l.name, { name: l.name, trigger_words: l.trigger_words });
  }
  return [...byName.values()];
}

/**
 * Moves `<lora:name:w>` tags from a prompt into slots (A1111 users paste prompts with them); the
 * tags are removed from the returned prompt so a LoRA is never applied twice.
 *
 * @example extractLoraTags('cat <lora:ink:0.7>') // { prompt: 'cat', loras: [{ name: 'ink', weight: 0.7 }] }
 */
export function extractLoraTags(prompt: string): { prompt: string; loras: LoraSlot[] } {
  const loras: LoraSlot[] = [];
  const rest = prompt.replace(/<lora:([^:>]+)(?::(-?\d+(?:\.\d+)?))?[^>]*>/gi, (_m, name: string, w?: string) => {
    loras.push({ name: name.trim(), weight: w === undefined ? DEFAULT_LORA_WEIGHT : Number(w) });
    return '';
  });
  return { prompt: rest.replace(/\s{2,}/g, ' ').replace(/\s+([,.])/g, '$1').trim(), loras };
}
