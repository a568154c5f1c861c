// The A1111 options Easel honours (`GET/POST /sdapi/v1/options`), persisted in
// $DATA_DIR/sdapi-options.json so a switch of checkpoint or VAE survives a restart. They are the
// server's defaults: a job that names no model or VAE gets these (socket, REST and sdapi alike).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../gallery/gallery-files.js';

export interface SdapiOptions {
  /** Registry name of the default checkpoint; null = the first checkpoint by name. */
  sd_model_checkpoint: string | null;
  /** `Automatic`, `None` or a file name in $MODELS_DIR/vae; null = the DEFAULT_VAE setting. */
  sd_vae: string | null;
  CLIP_stop_at_last_layers: number;
  /** Keep images made through /sdapi in the gallery even when a request says save_images=false. */
  samples_save: boolean;
  /** Only 0: Easel's engine does not take a seed delta yet (a non-zero value is refused with 501). */
  eta_noise_seed_delta: number;
  /** A1111's `randn_source`: GPU (= NV, A1111's default philox) or CPU (torch's CPU generator). */
  randn_source: 'GPU' | 'CPU' | 'NV';
  /** ADetailer's global `ad_bbox_sortby` setting: the order of an /sdapi tab's detections when the tab names none. */
  ad_bbox_sortby: string;
}

export const OPTIONS_FILE = 'sdapi-options.json';

export const DEFAULT_SDAPI_OPTIONS: SdapiOptions = {
  sd_model_checkpoint: null,
  sd_vae: null,
  CLIP_stop_at_last_layers: 1,
  samples_save: true,
  eta_noise_seed_delta: 0,
  randn_source: 'GPU',
  ad_bbox_sortby: 'None',
};

export class OptionsStore {
  private current: SdapiOptions;
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = join(dataDir, OPTIONS_FILE);
    this.current = { ...DEFAULT_SDAPI_OPTIONS, ...this.read() };
  }

  private read(): Partial<SdapiOptions> {
    if (!existsSync(this.file)) return {};
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, unknown>;
      const out: Partial<SdapiOptions> = {};
      for (const key of Object.keys(DEFAULT_SDAPI_OPTIONS) as (keyof SdapiOptions)[]) {
        const v = raw[key];
        const def = DEFAULT_SDAPI_OPTIONS[key];
        if (v === null && def === null) (out as Record<string, unknown>)[key] = null;
        else if (v !== undefined && v !== null && (def === null ? typeof v === 'string' : typeof v === typeof def)) (out as Record<string, unknown>)[key] = v;
      }
      return out;
    } catch {
      // A damaged file falls back to the defaults; the next POST rewrites it.
      return {};
    }
  }

  get(): Readonly<SdapiOptions> {
    return this.current;
  }

  /** Applies already-validated values and persists them (writes are serialised). */
  async set(patch: Partial<SdapiOptions>): Promise<void> {
    this.current = { ...this.current, ...patch };
    const snapshot = JSON.stringify(this.current, null, 2);
    this.writing = this.writing.then(() => writeFileAtomic(this.file, Buffer.from(snapshot)));
    await this.writing;
  }
}
