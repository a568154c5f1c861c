// Test helper: typed access to the sd1-tiny sampling ground truth (samplers.safetensors,
// rng.safetensors, sigmas.json, cases.json), read in place through helper C's safetensors reader.
import { readFileSync } from 'node:fs';
import { SafetensorsFile } from '../../io/safetensors.js';
import { sd1TinyPath } from '../../testing/fixtures.js';

export interface SamplerRunCase {
  name: string;
  sampler: string;
  scheduler: string;
  steps: number;
  cfg_scale: number;
  seed: number;
  sigmas?: number[];
  timesteps?: number[];
  n_rng_draws_during_sampling: number;
  unet_calls: unknown[];
}

export interface SigmasFixture {
  model_sigmas_1000: number[];
  sigma_min: number;
  sigma_max: number;
  sigma_to_t: { sigma: number; t: number }[];
  t_to_sigma: { t: number; sigma: number }[];
  [list: string]: unknown;
}

export interface RngCase {
  seed: number;
  torch_cpu_randn: number[];
  torch_cpu_randn_second_call: number[];
  a1111_nv_philox: number[];
  a1111_nv_philox_second_call: number[];
}

export function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(sd1TinyPath(name), 'utf8')) as T;
}

export function samplerRuns(): SamplerRunCase[] {
  return readJson<{ sampler_runs: SamplerRunCase[] }>('cases.json').sampler_runs;
}

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Reads every tensor whose name starts with `prefix` (float32; U8 converted). */
export async function readTensors(file: string, prefix = ''): Promise<Map<string, Tensor>> {
  const f = await SafetensorsFile.open(sd1TinyPath(file));
  try {
    const out = new Map<string, Tensor>();
    for (const key of f.keys()) {
      if (!key.startsWith(prefix)) continue;
      const info = f.info(key);
      if (!info) continue;
      out.set(key, { shape: info.shape, data: await f.readFloat32(key) });
    }
    return out;
  } finally {
    await f.close();
  }
}

/** Row `i` of a tensor whose first axis is the step index. */
export function row(t: Tensor, i: number): Float32Array {
  const size = t.data.length / t.shape[0];
  return t.data.slice(i * size, (i + 1) * size);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
