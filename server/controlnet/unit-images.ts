// ControlNet units may name a gallery image (`image_id`) instead of carrying bytes: the bytes are read
// when the job starts, so the queue (and its SQLite rows) never holds an image twice.
import { readFile } from 'node:fs/promises';
import type { EngineSupervisor } from '../engine/supervisor.js';
import { EaselError } from '../protocol/errors.js';

export interface GalleryFiles {
  /** Absolute path of a gallery image's file, or undefined for an unknown id. */
  filePath(id: string): string | undefined;
}

/** The worker's `controlnet` units: every `image_id` replaced by that image's bytes. */
export async function controlNetUnitImages(units: unknown, gallery: GalleryFiles): Promise<unknown> {
  if (!Array.isArray(units)) return units;
  return Promise.all(
    units.map(async (u: unknown, i) => {
      if (typeof u !== 'object' || u === null) return u;
      const { image_id: id, ...rest } = u as Record<string, unknown>;
      if (typeof id !== 'string') return u;
      const path = gallery.filePath(id);
      if (!path) throw new EaselError('not_found', `controlnet.${i}.image_id: no image ${id} (deleted since the job was queued)`, { field: `controlnet.${i}.image_id` });
      return { ...rest, image: new Uint8Array(await readFile(path)) };
    }),
  );
}

/** The supervisor as the GPU lane sees it, with generate jobs' ControlNet gallery images read. */
export function withControlNetImages(supervisor: Pick<EngineSupervisor, 'run'>, gallery: GalleryFiles): Pick<EngineSupervisor, 'run'> {
  return {
    run: async (id, kind, params, hooks) =>
      supervisor.run(id, kind, kind === 'generate' && Array.isArray(params.controlnet) ? { ...params, controlnet: await controlNetUnitImages(params.controlnet, gallery) } : params, hooks),
  };
}
