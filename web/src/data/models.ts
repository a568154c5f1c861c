// Model calls for Settings: the list by type, starting a download, and following its progress
// (`download:progress`) and the `models:changed` broadcast.
import type { LoraInfo } from '../logic/lora-slots.js';
import type { ConnectionManager } from './connection.js';
import type { DownloadProgressEvent, ModelEntry, ModelType } from './protocol.js';

export const MODEL_TYPE_LABELS: Record<ModelType, string> = {
  checkpoint: 'Checkpoint',
  lora: 'LoRA',
  vae: 'VAE',
  embedding: 'Embedding',
  controlnet: 'ControlNet',
  upscaler: 'Upscaler',
  detector: 'Detector',
  prompt_expander: 'Prompt expander',
  vae_approx: 'Preview decoder (TAESD)',
};

export function listModels(conn: ConnectionManager, type?: ModelType): Promise<ModelEntry[]> {
  return conn.request('get_models', type ? { type } : {}, { queue: false }).then((r) => r.models);
}

/** What the generation form takes from the registry: the VAE names and each LoRA's trigger words. */
export interface RegistryLists {
  vaes: string[];
  loras: LoraInfo[];
  /** Upscaler files (hires fix). */
  upscalers?: string[];
  /** Family (sd1, sdxl, ...) of each checkpoint and each LoRA by registry name, where the registry knows it. */
  checkpointFamilies?: Record<string, string>;
  loraFamilies?: Record<string, string>;
}

/** Splits one get_models answer into the form's lists (names sorted as the registry sends them). */
export function registryLists(entries: readonly ModelEntry[]): RegistryLists {
  const vaes: string[] = [];
  const loras: LoraInfo[] = [];
  const upscalers: string[] = [];
  const checkpointFamilies: Record<string, string> = {};
  const loraFamilies: Record<string, string> = {};
  for (const m of entries) {
    if (m.type === 'upscaler') upscalers.push(m.name);
    if (m.family && m.type === 'checkpoint') checkpointFamilies[m.name] = m.family;
    if (m.family && m.type === 'lora') loraFamilies[m.name] = m.family;
    if (m.type === 'vae') vaes.push(m.name);
    else if (m.type === 'lora') {
      const words = m.metadata?.trigger_words?.filter((w) => w.trim() !== '') ?? [];
      loras.push(words.length > 0 ? { name: m.name, trigger_words: words } : { name: m.name });
    }
  }
  return { vaes, loras, upscalers, checkpointFamilies, loraFamilies };
}

/** One get_models call for the form's VAE and LoRA lists (not queued: the form works without it). */
export async function fetchRegistryLists(conn: ConnectionManager): Promise<RegistryLists> {
  return registryLists(await listModels(conn));
}

/** What the server's download_model takes (kept in step with DOWNLOAD_SOURCE_PATTERN in server/protocol/actions.ts). */
export const DOWNLOAD_SOURCE = /^(https:\/\/\S+|hf:[\w.-]+\/[\w.-]+(@[\w.-]+)?(\/\S+)?|civitai:\d+)$/;

/** Starts a server-side download; `source` is an https URL (Civitai/Hugging Face pages too), `hf:owner/repo/path` or `civitai:<versionId>`. */
export function startDownload(conn: ConnectionManager, req: { source: string; type: ModelType; filename?: string; sha256?: string }): Promise<string> {
  return conn.request('download_model', req).then((r) => r.job_id);
}

/** Stops a queued or running download (its partial file is deleted). */
export function cancelDownload(conn: ConnectionManager, jobId: string): Promise<void> {
  return conn.request('cancel_download', { job_id: jobId }, { queue: false }).then(() => undefined);
}

/** "12.3 MB/s" */
export function formatSpeed(bps: number | undefined): string {
  return bps && bps > 0 ? `${formatBytes(bps)}/s` : '';
}

/** "1 h 02 min", "3 min 05 s", "42 s"; empty when unknown. */
export function formatEta(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '';
  const t = Math.max(0, Math.round(s));
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (t >= 3600) return `${Math.floor(t / 3600)} h ${pad(Math.floor((t % 3600) / 60))} min`;
  if (t >= 60) return `${Math.floor(t / 60)} min ${pad(t % 60)} s`;
  return `${t} s`;
}

/** A finished download stays on screen this long, then drops off the list. */
export const FINISHED_DOWNLOAD_TTL_MS = 15_000;

export function onDownloadProgress(conn: ConnectionManager, fn: (e: DownloadProgressEvent) => void): () => void {
  return conn.on('download:progress', fn);
}

export function onModelsChanged(conn: ConnectionManager, fn: () => void): () => void {
  return conn.on('models:changed', () => fn());
}

/** "1.9 GB" style sizes for the model list. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
