// Sampler and scheduler names: Easel ids, AUTOMATIC1111 display names, their aliases, and A1111's
// legacy combined names ("DPM++ 2M Karras"). Both the server (validation) and the engine use this
// table, so a name accepted at the edge is always one the engine can run.

export const SAMPLER_IDS = [
  'euler',
  'euler_a',
  'heun',
  'dpm2',
  'dpmpp_2m',
  'dpmpp_sde',
  'dpmpp_2m_sde',
  'lms',
  'ddim',
] as const;
export type SamplerId = (typeof SAMPLER_IDS)[number];

export const SCHEDULER_IDS = ['automatic', 'uniform', 'normal', 'karras', 'exponential', 'sgm_uniform', 'simple'] as const;
export type SchedulerId = (typeof SCHEDULER_IDS)[number];

export interface SamplerInfo {
  id: SamplerId;
  /** A1111's label, as written in infotext ("Sampler: DPM++ 2M"). */
  label: string;
  /** A1111's aliases (k-diffusion style) plus ComfyUI's name. */
  aliases: readonly string[];
  /** What A1111 uses when the scheduler is "Automatic". */
  defaultScheduler: Exclude<SchedulerId, 'automatic'>;
  /** A1111 drops the next-to-last sigma for these samplers. */
  discardPenultimateSigma: boolean;
}

export interface SchedulerInfo {
  id: SchedulerId;
  label: string;
  aliases: readonly string[];
}

// Labels and defaults from A1111 v1.10.1 sd_samplers_kdiffusion.samplers_k_diffusion and
// sd_samplers_timesteps; "uniform" is the scheduler k-diffusion's CompVisDenoiser.get_sigmas gives.
export const SAMPLERS: readonly SamplerInfo[] = [
  { id: 'dpmpp_2m', label: 'DPM++ 2M', aliases: ['k_dpmpp_2m', 'dpmpp_2m'], defaultScheduler: 'karras', discardPenultimateSigma: false },
  { id: 'dpmpp_sde', label: 'DPM++ SDE', aliases: ['k_dpmpp_sde', 'dpmpp_sde'], defaultScheduler: 'karras', discardPenultimateSigma: false },
  { id: 'dpmpp_2m_sde', label: 'DPM++ 2M SDE', aliases: ['k_dpmpp_2m_sde', 'dpmpp_2m_sde'], defaultScheduler: 'exponential', discardPenultimateSigma: false },
  { id: 'euler_a', label: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral', 'euler_ancestral'], defaultScheduler: 'uniform', discardPenultimateSigma: false },
  { id: 'euler', label: 'Euler', aliases: ['k_euler'], defaultScheduler: 'uniform', discardPenultimateSigma: false },
  { id: 'lms', label: 'LMS', aliases: ['k_lms'], defaultScheduler: 'uniform', discardPenultimateSigma: false },
  { id: 'heun', label: 'Heun', aliases: ['k_heun'], defaultScheduler: 'uniform', discardPenultimateSigma: false },
  { id: 'dpm2', label: 'DPM2', aliases: ['k_dpm_2', 'dpm_2'], defaultScheduler: 'karras', discardPenultimateSigma: true },
  { id: 'ddim', label: 'DDIM', aliases: [], defaultScheduler: 'uniform', discardPenultimateSigma: false },
];

export const SCHEDULERS: readonly SchedulerInfo[] = [
  { id: 'automatic', label: 'Automatic', aliases: [] },
  { id: 'uniform', label: 'Uniform', aliases: [] },
  { id: 'karras', label: 'Karras', aliases: [] },
  { id: 'exponential', label: 'Exponential', aliases: [] },
  { id: 'sgm_uniform', label: 'SGM Uniform', aliases: ['SGMUniform'] },
  { id: 'simple', label: 'Simple', aliases: [] },
  { id: 'normal', label: 'Normal', aliases: [] },
];

const norm = (s: string): string => s.trim().toLowerCase();

function findSampler(name: string): SamplerInfo | undefined {
  const n = norm(name);
  return SAMPLERS.find((s) => s.id === n || norm(s.label) === n || s.aliases.some((a) => norm(a) === n));
}

export function findScheduler(name: string): SchedulerInfo | undefined {
  const n = norm(name);
  return SCHEDULERS.find((s) => s.id === n || norm(s.label) === n || s.aliases.some((a) => norm(a) === n));
}

export interface ResolvedSampler {
  sampler: SamplerInfo;
  /** Set when the name carried a scheduler suffix ("DPM++ 2M Karras" → karras). */
  scheduler?: SchedulerInfo;
}

/**
 * Accepts an id (`dpmpp_2m`), an A1111 label (`DPM++ 2M`), an alias (`k_dpmpp_2m`) or a legacy
 * combined name (`DPM++ 2M Karras`), as A1111's get_sampler_and_scheduler does.
 *
 * @example resolveSampler('DPM++ 2M Karras') // { sampler: dpmpp_2m, scheduler: karras }
 */
export function resolveSampler(name: string): ResolvedSampler | undefined {
  const direct = findSampler(name);
  if (direct) return { sampler: direct };
  const n = norm(name);
  for (const sched of SCHEDULERS) {
    for (const label of [sched.label, ...sched.aliases]) {
      const suffix = ' ' + norm(label);
      if (n.endsWith(suffix)) {
        const sampler = findSampler(n.slice(0, -suffix.length));
        if (sampler) return { sampler, scheduler: sched };
      }
    }
  }
  return undefined;
}

/** The scheduler a run actually uses: "automatic" becomes the sampler's own default. */
export function effectiveScheduler(sampler: SamplerInfo, scheduler: SchedulerId): Exclude<SchedulerId, 'automatic'> {
  return scheduler === 'automatic' ? sampler.defaultScheduler : scheduler;
}
