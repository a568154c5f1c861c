// How many model parts the engine keeps loaded (ENGINE_MEMORY). In fp32 the SD1.5 text encoder,
// UNet and VAE weights are 0.5 + 3.3 + 0.3 GiB, and a UNet step adds its activations, so keeping
// everything (fastest: no part is ever reopened) peaks near 6–7 GiB for a 512² txt2img on the CPU.
// 'low' holds one part at a time and reopens the others from the load cache (a cache hit is
// seconds), for machines where that peak would swap or be killed.
import { totalmem } from 'node:os';
import type { Device } from './ort-backend.js';

export type EngineMemory = 'low' | 'normal';
export type EngineMemorySetting = EngineMemory | 'auto';

export const ENGINE_MEMORY_SETTINGS: readonly EngineMemorySetting[] = ['auto', 'low', 'normal'];

/** Under this much RAM, 'auto' picks 'low' on the CPU (a normal-mode SD1.5 job peaks near 7 GiB). */
export const AUTO_LOW_BELOW_BYTES = 12 * 2 ** 30;

/** The setting from a string (case-insensitive), or undefined when it is not one. */
export function parseEngineMemory(raw: string | undefined): EngineMemorySetting | undefined {
  const v = raw?.trim().toLowerCase();
  return ENGINE_MEMORY_SETTINGS.find((s) => s === v);
}

export interface MemoryFacts {
  device: Device;
  /** Whether a load cache is on: without one, reopening a UNet rebuilds it (a minute), so 'auto' never picks 'low'. */
  loadCache: boolean;
  totalBytes?: number;
}

/** What `setting` means on this machine: 'auto' is 'low' on a CPU with a load cache and under 12 GiB of RAM. */
export function resolveEngineMemory(setting: EngineMemorySetting, facts: MemoryFacts): EngineMemory {
  if (setting !== 'auto') return setting;
  const total = facts.totalBytes ?? totalmem();
  return facts.device === 'cpu' && facts.loadCache && total < AUTO_LOW_BELOW_BYTES ? 'low' : 'normal';
}
