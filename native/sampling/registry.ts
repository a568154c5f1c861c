// Which implementation runs each sampler id, and the A1111 per-sampler options the pipeline needs
// (second order → prompt schedules over twice the steps; Brownian noise; uses ENSD). DDIM is on its
// own timesteps path (samplers/ddim.ts), everything else on the k-diffusion sigma contract.
import { SamplingError } from './errors.js';
import type { SamplerId } from './names.js';
import type { Sampler } from './sampler.js';
import { dpm2 } from './samplers/dpm2.js';
import { dpmpp2m } from './samplers/dpmpp-2m.js';
import { dpmpp2mSde } from './samplers/dpmpp-2m-sde.js';
import { dpmppSde } from './samplers/dpmpp-sde.js';
import { euler } from './samplers/euler.js';
import { eulerAncestral } from './samplers/euler-ancestral.js';
import { heun } from './samplers/heun.js';
import { lms } from './samplers/lms.js';

interface EntryFlags {
  /** A1111 "second_order": two model calls per step, prompt schedules over 2·steps. */
  secondOrder: boolean;
  /** A1111 "brownian_noise": the sampler needs `intervalNoise`. */
  brownian: boolean;
  /** A1111 "uses_ensd": the infotext carries "ENSD" for this sampler when it is non-zero. */
  usesEnsd: boolean;
}

export type SamplerEntry =
  | ({ kind: 'sigmas'; id: SamplerId; sampler: Sampler } & EntryFlags)
  | ({ kind: 'timesteps'; id: 'ddim' } & EntryFlags);

const NONE: EntryFlags = { secondOrder: false, brownian: false, usesEnsd: false };

// Flags from A1111 v1.10.1 samplers_k_diffusion / samplers_timesteps options.
const ENTRIES: readonly SamplerEntry[] = [
  { kind: 'sigmas', id: 'euler', sampler: euler, ...NONE },
  { kind: 'sigmas', id: 'euler_a', sampler: eulerAncestral, ...NONE, usesEnsd: true },
  { kind: 'sigmas', id: 'heun', sampler: heun, ...NONE, secondOrder: true },
  { kind: 'sigmas', id: 'dpm2', sampler: dpm2, ...NONE, secondOrder: true },
  { kind: 'sigmas', id: 'lms', sampler: lms, ...NONE },
  { kind: 'sigmas', id: 'dpmpp_2m', sampler: dpmpp2m, ...NONE },
  { kind: 'sigmas', id: 'dpmpp_sde', sampler: dpmppSde, ...NONE, secondOrder: true, brownian: true },
  { kind: 'sigmas', id: 'dpmpp_2m_sde', sampler: dpmpp2mSde, ...NONE, brownian: true },
  { kind: 'timesteps', id: 'ddim', ...NONE, usesEnsd: true },
];


/** The implementation and flags of a sampler id. */
export function samplerById(id: SamplerId): SamplerEntry {
  const entry = ENTRIES.find((e) => e.id === id);
  if (!entry) throw new SamplingError('unknown_sampler', `no implementation for sampler "${id}"`);
  return entry;
}

/**
 * The step count A1111 builds prompt-editing schedules for (SamplerData.total_steps): second order
 * samplers count two denoiser calls per step.
 *
 * @example promptScheduleSteps('heun', 20) // 40
 */
export function promptScheduleSteps(id: SamplerId, steps: number): number {
  return samplerById(id).secondOrder ? steps * 2 : steps;
}
