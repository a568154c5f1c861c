// Test double of localStorage for the data modules' unit tests: a Map behind the KeyValueStore
// interface, with the map exposed so a test can see what was written.
import type { KeyValueStore } from '../settings.js';

export function memoryStore(initial: Record<string, string> = {}): KeyValueStore & { map: Map<string, string> } {
  const map = new Map(Object.entries(initial));
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}
