// What a model file says about itself, read from its .safetensors header only (never the
// tensors): the family from the key names (native/models/family.ts; for LoRAs from kohya's
// `ss_base_model_version` or the `lora_te2_` keys SDXL LoRAs carry) and a summary of the
// `__metadata__` (kohya `ss_*` training tags, `modelspec.*` fields) small enough for the wire.
import { SafetensorsFile } from '../../native/io/safetensors.js';
import { detectFamily } from '../../native/models/family.js';
import type { ModelFileMetadata } from '../protocol/actions.js';
import { controlNetFamily } from './controlnet-family.js';

export interface ModelFileInfo {
  family: string;
  metadata: ModelFileMetadata;
  /** `sshs_model_hash`, which A1111 prefers over computing the LoRA hash. */
  declaredHash?: string;
}

const MAX_TRIGGER_WORDS = 10;
const MAX_TEXT = 500;

const text = (v: string | undefined): string | undefined => (v && v.trim() ? v.trim().slice(0, MAX_TEXT) : undefined);

/**
 * The most frequent tags of kohya's `ss_tag_frequency` (`{ "<n>_<folder>": { tag: count } }`),
 * summed over the dataset folders, best first; ties keep the first seen.
 */
export function topTags(tagFrequency: string | undefined, limit = MAX_TRIGGER_WORDS): string[] {
  if (!tagFrequency) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(tagFrequency);
  } catch {
    return [];
  }
  if (!parsed || typeof parsed !== 'object') return [];
  const counts = new Map<string, number>();
  for (const folder of Object.values(parsed as Record<string, unknown>)) {
    if (!folder || typeof folder !== 'object') continue;
    for (const [tag, n] of Object.entries(folder as Record<string, unknown>)) {
      const t = tag.trim();
      if (t && typeof n === 'number' && Number.isFinite(n)) counts.set(t, (counts.get(t) ?? 0) + n);
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([t]) => t);
}

function familyFromBaseModel(base: string | undefined): string | undefined {
  if (!base) return undefined;
  const b = base.toLowerCase();
  if (b.includes('sdxl') || b.includes('stable-diffusion-xl')) return 'sdxl';
  if (b.includes('v2') || b.includes('sd_2') || b.includes('stable-diffusion-v2')) return 'sd2';
  if (b.includes('v1') || b.includes('sd_1') || b.includes('stable-diffusion-v1')) return 'sd1';
  return undefined;
}

/** The wire summary of a `__metadata__` map. */
export function summarizeMetadata(meta: Record<string, string>): ModelFileMetadata {
  const out: ModelFileMetadata = {};
  const set = <K extends keyof ModelFileMetadata>(k: K, v: ModelFileMetadata[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('title', text(meta['modelspec.title']));
  set('output_name', text(meta.ss_output_name));
  set('base_model', text(meta.ss_base_model_version) ?? text(meta['modelspec.architecture']));
  set('trained_on', text(meta.ss_sd_model_name));
  const declared = text(meta['modelspec.trigger_phrase']);
  const tags = topTags(meta.ss_tag_frequency);
  const words = declared ? [declared, ...tags.filter((t) => t !== declared)].slice(0, MAX_TRIGGER_WORDS) : tags;
  if (words.length > 0) out.trigger_words = words;
  set('resolution', text(meta['modelspec.resolution']) ?? text(meta.ss_resolution));
  const dim = Number(meta.ss_network_dim);
  const alpha = Number(meta.ss_network_alpha);
  if (meta.ss_network_module || Number.isFinite(dim) || Number.isFinite(alpha)) {
    const network: NonNullable<ModelFileMetadata['network']> = {};
    if (meta.ss_network_module) network.module = meta.ss_network_module.slice(0, 100);
    if (meta.ss_network_dim !== undefined && Number.isFinite(dim)) network.dim = dim;
    if (meta.ss_network_alpha !== undefined && Number.isFinite(alpha)) network.alpha = alpha;
    if (Object.keys(network).length > 0) out.network = network;
  }
  set('description', text(meta['modelspec.description']));
  set('author', text(meta['modelspec.author']));
  return out;
}

/** The family of a file from its keys; LoRA files (no UNet keys) from their metadata or key prefixes. */
export function familyOf(keys: string[], meta: Record<string, string>): string {
  const fromKeys = detectFamily(keys).family;
  if (fromKeys !== 'unknown') return fromKeys;
  const fromMeta = familyFromBaseModel(meta.ss_base_model_version ?? meta['modelspec.architecture']);
  if (fromMeta) return fromMeta;
  if (keys.some((k) => k.startsWith('lora_te2_') || k.startsWith('lora_unet_input_blocks_'))) return 'sdxl';
  if (keys.some((k) => k.startsWith('lora_te_') || k.startsWith('lora_unet_down_blocks_'))) return 'sd1';
  return 'unknown';
}

/**
 * Reads family and metadata from a .safetensors header; other formats (pickles are never opened
 * here) and unreadable files answer `unknown` with no metadata.
 */
export async function readModelFileInfo(path: string): Promise<ModelFileInfo> {
  if (!path.toLowerCase().endsWith('.safetensors')) return { family: 'unknown', metadata: {} };
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(path);
  } catch {
    return { family: 'unknown', metadata: {} };
  }
  try {
    const keys = file.keys();
    let family = familyOf(keys, file.metadata);
    // ControlNet files carry no checkpoint markers: their family comes from tensor shapes.
    if (family === 'unknown') family = controlNetFamily(keys, (k) => file.info(k));
    const info: ModelFileInfo = { family, metadata: summarizeMetadata(file.metadata) };
    if (file.metadata.sshs_model_hash) info.declaredHash = file.metadata.sshs_model_hash;
    return info;
  } finally {
    await file.close();
  }
}
