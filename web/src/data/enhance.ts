// Prompt expansion calls for the ✨ button: start an `enhance_prompt` with a fresh request id, follow
// its `enhance:partial` events, cancel it; and the expander model this browser prefers (Settings).
import type { ConnectionManager } from './connection.js';
import type { KeyValueStore } from './settings.js';

export interface EnhanceOptions {
  n?: number;
  seed?: number;
  model?: string;
  temperature?: number;
  max_new_tokens?: number;
}

export interface EnhanceRun {
  readonly requestId: string;
  /** The cleaned-up prompts, in sequence order. */
  readonly done: Promise<{ prompts: string[]; model: string }>;
  cancel(): void;
}

const MODEL_KEY = 'easel.enhanceModel';

function newRequestId(): string {
  return `enh_${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Expands `prompt` on the server; `onPartial(index, text)` gets each sequence's text as it grows.
 *
 * @example const run = enhancePrompt(connection, 'a cat in the rain', { n: 3 }, (i, t) => (list[i] = t));
 */
export function enhancePrompt(conn: ConnectionManager, prompt: string, opts: EnhanceOptions, onPartial: (index: number, text: string) => void): EnhanceRun {
  const requestId = newRequestId();
  const off = conn.on('enhance:partial', (e) => {
    if (e.request_id === requestId) onPartial(e.index, e.text);
  });
  const done = conn
    .request('enhance_prompt', { prompt, request_id: requestId, ...opts }, { queue: false })
    .then((r) => ({ prompts: r.prompts, model: r.model }))
    .finally(off);
  return {
    requestId,
    done,
    cancel: () => void conn.request('cancel_enhance', { request_id: requestId }, { queue: false }).catch(() => undefined),
  };
}

/** The expander model chosen in Settings ('' = the server's default). */
export function loadExpanderModel(store: KeyValueStore): string {
  return store.getItem(MODEL_KEY) ?? '';
}

export function saveExpanderModel(store: KeyValueStore, name: string): void {
  if (name) store.setItem(MODEL_KEY, name);
  else store.removeItem(MODEL_KEY);
}

/** The prompt after taking a suggestion: replace it, or append the suggestion's new part. */
export function applySuggestion(current: string, suggestion: string, mode: 'replace' | 'append'): string {
  if (mode === 'replace') return suggestion;
  const extra = suggestion.startsWith(current) ? suggestion.slice(current.length).replace(/^[\s,]+/, '') : suggestion;
  if (!extra) return current;
  return current.trim() ? `${current.replace(/[\s,]+$/, '')}, ${extra}` : extra;
}
