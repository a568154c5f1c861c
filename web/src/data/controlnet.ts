// ControlNet calls for the ControlNet tab: the module table (GET /controlnet/module_list, by name and
// by UI label, with slider specs and availability), the ControlNet files with their family
// (get_models), and the preprocessor preview (the `preprocess` action, acked with the hint PNG).
import type { ConnectionManager } from './connection.js';
import { restJson, type RestTarget } from './http.js';
import { listModels } from './models.js';

export interface SliderInfo {
  name: string;
  value: number;
  min: number;
  max: number;
  step: number;
}

export interface ModuleInfo {
  /** What the unit sends (`module`). */
  name: string;
  /** The extension's UI name. */
  label: string;
  available: boolean;
  reason?: string;
  /** Visible sliders in order: resolution first (when it shows), then threshold A and B. */
  sliders: SliderInfo[];
}

export interface ControlNetFile {
  name: string;
  family: string;
}

interface ModuleListAnswer {
  module_list: string[];
  module_detail: Record<string, { sliders: SliderInfo[]; available?: boolean; unavailable_reason?: string }>;
}

/** Both listings come in the same order, so names and labels pair up by index. */
export async function fetchModules(target: RestTarget): Promise<ModuleInfo[]> {
  const [byName, byLabel] = await Promise.all([
    restJson<ModuleListAnswer>(target, 'controlnet/module_list'),
    restJson<ModuleListAnswer>(target, 'controlnet/module_list?alias_names=true'),
  ]);
  return byName.module_list.map((name, i) => {
    const d = byName.module_detail[name];
    const reason = d?.unavailable_reason;
    return { name, label: byLabel.module_list[i] ?? name, available: d?.available !== false, ...(reason ? { reason } : {}), sliders: d?.sliders ?? [] };
  });
}

export async function fetchControlNetFiles(conn: ConnectionManager): Promise<ControlNetFile[]> {
  return (await listModels(conn, 'controlnet')).map((m) => ({ name: m.name, family: m.family ?? 'unknown' }));
}

export interface PreviewRequest {
  module: string;
  image: string;
  processor_res?: number;
  threshold_a?: number;
  threshold_b?: number;
}

/** The preprocessed hint as a PNG blob (not queued: a preview is only worth it while connected). */
export async function previewHint(conn: ConnectionManager, req: PreviewRequest): Promise<Blob> {
  const res = await conn.request('preprocess', req, { queue: false });
  const bytes = res.png instanceof ArrayBuffer ? new Uint8Array(res.png) : new Uint8Array(res.png.buffer as ArrayBuffer, res.png.byteOffset, res.png.byteLength);
  return new Blob([bytes.slice()], { type: 'image/png' });
}
