// The record → wire mapping: what a client sees of a gallery image, with signed file URLs.
import type { GalleryImage } from '../protocol/gallery.js';
import type { UrlSigner } from '../security/signed-url.js';
import type { ImageRecord } from './gallery-store.js';

/** Where createFileRoutes is mounted; the signature covers the full path. */
export const FILES_PREFIX = '/files';

export function imageFilePath(id: string): string {
  return `${FILES_PREFIX}/images/${encodeURIComponent(id)}`;
}

export function thumbFilePath(id: string): string {
  return `${FILES_PREFIX}/thumbs/${encodeURIComponent(id)}`;
}

/**
 * @example toWireImage(store.get(id)!, signer).thumb_url // '/files/thumbs/<id>?exp=...&sig=...'
 */
export function toWireImage(record: ImageRecord, signer: UrlSigner): GalleryImage {
  return {
    id: record.id,
    job_id: record.job_id,
    created_at: record.created_at,
    task: record.task,
    prompt: record.prompt,
    negative_prompt: record.negative_prompt,
    model: record.model,
    width: record.width,
    height: record.height,
    seed: record.seed,
    steps: record.steps,
    cfg_scale: record.cfg_scale,
    sampler: record.sampler,
    scheduler: record.scheduler,
    favorite: record.favorite,
    infotext: record.infotext,
    url: signer.sign(imageFilePath(record.id)),
    thumb_url: signer.sign(thumbFilePath(record.id)),
  };
}
