// The server's self-description (GET /api/info) reduced to what the Generate form needs: sampler
// and scheduler lists, checkpoints, VAEs, LoRAs (with trigger words when the server knows them),
// limits. Tolerant of missing fields so an older or newer server still gives a usable form. The
// model registry (get_models) knows more than /api/info: `withRegistry` folds that in.
import { SAMPLERS, SCHEDULERS } from '../../../native/sampling/names.js';
import { mergeLoraInfo, type LoraInfo } from '../logic/lora-slots.js';
import { restJson, type RestTarget } from './http.js';
import type { RegistryLists } from './models.js';

export interface NamedOption {
  id: string;
  label: string;
}

export interface ServerInfo {
  version: string;
  samplers: NamedOption[];
  schedulers: NamedOption[];
  models: string[];
  /** VAE files in the registry (the form adds Automatic and None). */
  vaes: string[];
  loras: LoraInfo[];
  engineCanGenerate: boolean | null;
  /** Upscaler files in the registry (the hires fix offers them by stem). */
  upscalers: string[];
  /** The engine's `hires` capability (null: unknown yet). */
  engineCanHires: boolean | null;
  /** The engine's feature flags (controlnet, sdxl, upscale, ...): a feature is offered only when true. */
  capabilities: Record<string, boolean>;
  /** From the model registry: family by checkpoint / LoRA name (SDXL size presets, mismatch marks). */
  checkpointFamilies?: Record<string, string>;
  loraFamilies?: Record<string, string>;
}

/** Used until the server answers (and offline): Easel's own ids with A1111 labels. */
export const FALLBACK_INFO: ServerInfo = {
  version: 'unknown',
  // The engine's own tables (web bundles them already through the protocol's sampler validation).
  samplers: SAMPLERS.map((x) => ({ id: x.id, label: x.label })),
  schedulers: SCHEDULERS.map((x) => ({ id: x.id, label: x.label })),
  models: [],
  vaes: [],
  loras: [],
  engineCanGenerate: null,
  upscalers: [],
  engineCanHires: null,
  capabilities: {},
};

function names(raw: unknown): string[] {
  return Array.isArray(raw) ? raw.filter((m): m is string => typeof m === 'string') : [];
}

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
  const engine = o.engine as { capabilities?: { generate?: unknown; hires?: unknown } | null } | undefined;
  const generate = engine?.capabilities?.generate;
  const hires = engine?.capabilities?.hires;
  return {
    version: typeof o.version === 'string' ? o.version : FALLBACK_INFO.version,
    samplers: options(o.samplers) ?? FALLBACK_INFO.samplers,
    schedulers: options(o.schedulers) ?? FALLBACK_INFO.schedulers,
    models: names(o.models),
    vaes: names(o.vaes),
    loras: loraList(o.loras),
    engineCanGenerate: typeof generate === 'boolean' ? generate : null,
    upscalers: [],
    engineCanHires: typeof hires === 'boolean' ? hires : engine?.capabilities ? false : null,
    capabilities: Object.fromEntries(Object.entries(engine?.capabilities ?? {}).filter((e): e is [string, boolean] => typeof e[1] === 'boolean')),
  };
}

/** The info with the registry's VAE list and the LoRA trigger words from the files' metadata. */
export function withRegistry(info: ServerInfo, registry: RegistryLists): ServerInfo {
  return {
    ...info,
    vaes: registry.vaes,
    loras: mergeLoraInfo(info.loras, registry.loras),
    upscalers: registry.upscalers ?? info.upscalers,
    checkpointFamilies: registry.checkpointFamilies ?? info.checkpointFamilies,
    loraFamilies: registry.loraFamilies ?? info.loraFamilies,
  };
}

export async function fetchServerInfo(target: RestTarget): Promise<ServerInfo> {
  return parseServerInfo(await restJson<unknown>(target, 'api/info'));
}
