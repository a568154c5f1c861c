// The server's self-description (GET /api/info) reduced to what the Generate form needs: sampler
// and scheduler lists, checkpoints, LoRAs (with trigger words when the server knows them), limits.
// Tolerant of missing fields so an older or newer server still gives a usable form.
import type { LoraInfo } from '../logic/lora-slots.js';
import { restJson, type RestTarget } from './http.js';

export interface NamedOption {
  id: string;
  label: string;
}

export interface ServerInfo {
  version: string;
  samplers: NamedOption[];
  schedulers: NamedOption[];
  models: string[];
  loras: LoraInfo[];
  engineCanGenerate: boolean | null;
}

/** Used until the server answers (and offline): Easel's own ids with A1111 labels. */
export const FALLBACK_INFO: ServerInfo = {
  version: 'unknown',
  samplers: [
    { id: 'euler_a', label: 'Euler a' },
    { id: 'euler', label: 'Euler' },
    { id: 'dpmpp_2m', label: 'DPM++ 2M' },
    { id: 'dpmpp_sde', label: 'DPM++ SDE' },
    { id: 'dpmpp_2m_sde', label: 'DPM++ 2M SDE' },
    { id: 'heun', label: 'Heun' },
    { id: 'dpm2', label: 'DPM2' },
    { id: 'lms', label: 'LMS' },
    { id: 'ddim', label: 'DDIM' },
  ],
  schedulers: [
    { id: 'automatic', label: 'Automatic' },
    { id: 'karras', label: 'Karras' },
    { id: 'exponential', label: 'Exponential' },
    { id: 'uniform', label: 'Uniform' },
    { id: 'normal', label: 'Normal' },
    { id: 'sgm_uniform', label: 'SGM Uniform' },
    { id: 'simple', label: 'Simple' },
  ],
  models: [],
  loras: [],
  engineCanGenerate: null,
};

function options(raw: unknown): NamedOption[] | null {
  if (!Array.isArray(raw)) return null;
  const out: NamedOption[] = [];
  for (const r of raw) {
    if (typeof r === 'string') out.push({ id: r, label: r });
    else if (r && typeof r === 'object' && typeof (r as { id?: unknown }).id === 'string') {
      const o = r as { id: string; label?: unknown };
      out.push({ id: o.id, label: typeof o.label === 'string' ? o.label : o.id });
    }
  }
  return out;
}

function loraList(raw: unknown): LoraInfo[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((r): LoraInfo[] => {
    if (typeof r === 'string') return [{ name: r }];
    if (r && typeof r === 'object' && typeof (r as { name?: unknown }).name === 'string') {
      const o = r as { name: string; trigger_words?: unknown };
      const words = Array.isArray(o.trigger_words) ? o.trigger_words.filter((w): w is string => typeof w === 'string') : undefined;
      return [words ? { name: o.name, trigger_words: words } : { name: o.name }];
    }
    return [];
  });
}

/** Normalises an /api/info answer; unknown or missing parts fall back to FALLBACK_INFO. */
export function parseServerInfo(raw: unknown): ServerInfo {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const engine = o.engine as { capabilities?: { generate?: unknown } | null } | undefined;
  const generate = engine?.capabilities?.generate;
  return {
    version: typeof o.version === 'string' ? o.version : FALLBACK_INFO.version,
    samplers: options(o.samplers) ?? FALLBACK_INFO.samplers,
    schedulers: options(o.schedulers) ?? FALLBACK_INFO.schedulers,
    models: Array.isArray(o.models) ? o.models.filter((m): m is string => typeof m === 'string') : [],
    loras: loraList(o.loras),
    engineCanGenerate: typeof generate === 'boolean' ? generate : null,
  };
}

export async function fetchServerInfo(target: RestTarget): Promise<ServerInfo> {
  return parseServerInfo(await restJson<unknown>(target, 'api/info'));
}
