// Model calls for Settings: the list by type, starting a download, and following its progress
// (`download:progress`) and the `models:changed` broadcast.
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
};

export function listModels(conn: ConnectionManager, type?: ModelType): Promise<ModelEntry[]> {
  return conn.request('get_models', type ? { type } : {}, { queue: false }).then((r) => r.models);
}

/** Starts a server-side download; `source` is an https URL, `hf:owner/repo/path` or `civitai:<versionId>`. */
export function startDownload(conn: ConnectionManager, req: { source: string; type: ModelType; filename?: string }): Promise<string> {
  return conn.request('download_model', req).then((r) => r.job_id);
}

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
