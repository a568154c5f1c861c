// How many model parts the engine keeps loaded (ENGINE_MEMORY). In fp32 the SD1.5 text encoder,
// UNet and VAE weights are 0.5 + 3.3 + 0.3 GiB, and each part's runs leave an ORT arena behind, so
// keeping everything peaks at 6.2–6.8 GiB for a 512² txt2img on the CPU. 'low' holds one part at a
// time and reopens the others from the load cache, and returns what the freed parts leave in glibc's
// heaps (heap-trim.ts): 3.94–3.97 GiB across processes since the cross-attention K/V weights left the
// UNet session (UNetRunnerOptions.contextKV; 4.02–4.05 before, 4.0–5.3 before that trim), and 121.3 s against 120.5 s per
// 20-step image (bench:engine --pipeline, docs/engine-speed.md), because a cache hit reopens the
// UNet in ~1.6 s. So 'auto' is 'low' wherever that reopen is a cache hit: on the CPU with the load
// cache on (the cache is CPU-only; on CUDA a reopen would rebuild the session). 'normal' also runs
// the UNet's large maps by Winograd on the CPU (LoadModelOptions.unetWinograd): ~5 % faster at 512²
// for ~0.4 GiB more, a trade 'low' declines. 'lowest' is 'low' plus a CFG step's cond and uncond
// rows run one at a time (A1111's batch_cond_uncond off, as with --medvram): 3.72–3.73 GiB against
// 3.94–3.97, for 2–14 % more time per step, so it is never chosen by 'auto'.
import type { Device } from './ort-backend.js';

export type EngineMemory = 'lowest' | 'low' | 'normal';
export type EngineMemorySetting = EngineMemory | 'auto';

export const ENGINE_MEMORY_SETTINGS: readonly EngineMemorySetting[] = ['auto', 'lowest', 'low', 'normal'];

/** The setting from a string (case-insensitive), or undefined when it is not one. */
export function parseEngineMemory(raw: string | undefined): EngineMemorySetting | undefined {
  const v = raw?.trim().toLowerCase();
  return ENGINE_MEMORY_SETTINGS.find((s) => s === v);
}

export interface MemoryFacts {
  device: Device;
  /** Whether a load cache is on: without one, reopening a UNet rebuilds it (20 s and more). */
  loadCache: boolean;
  /** LIVE_PREVIEW_METHOD=full: previews run the VAE between UNet steps, so 'low' would reopen the UNet after each. */
  fullPreviews?: boolean;
}

/** What `setting` means here: 'auto' is 'low' on the CPU with a load cache and no full-VAE previews, else 'normal'. */
export function resolveEngineMemory(setting: EngineMemorySetting, facts: MemoryFacts): EngineMemory {
  if (setting !== 'auto') return setting;
  return facts.device === 'cpu' && facts.loadCache && !facts.fullPreviews ? 'low' : 'normal';
}
