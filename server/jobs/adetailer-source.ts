// What the `adetailer` job needs besides its units: the source image's bytes (a gallery image by
// id, or the uploaded bytes) and the parameters the source was made with — prompt, seed, steps,
// CFG, sampler, checkpoint — read from its infotext, as ADetailer inherits them from `p`. Fields
// given in the request win. Runs when the job starts, so the queue never holds image bytes twice.
import { readFile } from 'node:fs/promises';
import type { EngineSupervisor } from '../engine/supervisor.js';
import { parseInfotext, readImageMetadata } from '../infotext/index.js';
import { EaselError } from '../protocol/errors.js';

export interface SourceImages {
  /** Absolute path of a gallery image's file, or undefined for an unknown id. */
  filePath(id: string): string | undefined;
}

/** The worker's params for an `adetailer` job. */
export async function adetailerJobParams(params: Record<string, unknown>, gallery: SourceImages): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  if (params.image instanceof Uint8Array) bytes = params.image;
  else {
    const id = typeof params.image_id === 'string' ? params.image_id : '';
    const path = gallery.filePath(id);
    if (!path) throw new EaselError('not_found', `no image ${id}`, { field: 'image_id' });
    bytes = new Uint8Array(await readFile(path));
  }
  let text = '';
  try {
    text = readImageMetadata(bytes).parameters ?? '';
  } catch {
    // not an image with metadata: the request's fields and the defaults apply
  }
  const source: Record<string, unknown> = {};
  if (text) {
    const p = parseInfotext(text);
    Object.assign(source, {
      prompt: p.prompt,
      negative_prompt: p.negative_prompt,
      seed: p.seed,
      steps: p.steps,
      cfg_scale: p.cfg_scale,
      sampler: p.sampler,
      scheduler: p.scheduler,
      model: p.model,
      clip_skip: p.clip_skip,
      rng: p.fields.RNG === 'CPU' ? 'cpu' : 'nv',
    });
    for (const k of Object.keys(source)) if (source[k] === undefined) delete source[k];
  }
  const given = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  return { ...source, ...given, image: bytes, source_image_id: typeof params.image_id === 'string' ? params.image_id : undefined };
}

/** The supervisor as the GPU lane sees it, with `adetailer` jobs given their source image. */
export function withADetailerSource(supervisor: Pick<EngineSupervisor, 'run'>, gallery: SourceImages): Pick<EngineSupervisor, 'run'> {
  return {
    run: async (id, kind, params, hooks) => supervisor.run(id, kind, kind === 'adetailer' ? await adetailerJobParams(params, gallery) : params, hooks),
  };
}
