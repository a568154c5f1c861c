// Result images held for the HTTP request that queued a job (A1111's synchronous txt2img/img2img
// answer carries the PNGs themselves). The gallery sink hands every image of a watched job here,
// already carrying its infotext chunk, and learns whether it should also be kept in the gallery.
import { withPngTextChunk } from '../infotext/index.js';

export interface CapturedImage {
  /** The PNG with its `parameters` chunk: byte for byte what the gallery would store. */
  png: Buffer;
  infotext: string;
  seed: number;
  width: number;
  height: number;
}

export interface CapturedResult {
  images: CapturedImage[];
  /** The engine's effective parameters of the last image (seed, model, hashes, ...). */
  info: Record<string, unknown>;
  /** Keep the images in the gallery too (`save_images`, or the server keeps API images). */
  keep: boolean;
}

export class JobResults {
  private readonly watched = new Map<string, CapturedResult>();

  /** Starts holding the images of `jobId`; call right after queueing it. */
  watch(jobId: string, keep: boolean): void {
    this.watched.set(jobId, { images: [], info: {}, keep });
  }

  /**
   * Called by the gallery sink for every image. Returns undefined for jobs nobody watches (the sink
   * saves as usual), else whether the sink should also save it.
   */
  offer(jobId: string, image: { png: Uint8Array; seed: number; width: number; height: number }, info: Record<string, unknown>, infotext: string): { keep: boolean } | undefined {
    const r = this.watched.get(jobId);
    if (!r) return undefined;
    r.images.push({ png: withPngTextChunk(image.png, 'parameters', infotext), infotext, seed: image.seed, width: image.width, height: image.height });
    r.info = info;
    return { keep: r.keep };
  }

  /** Hands over and forgets what was held for `jobId`. */
  take(jobId: string): CapturedResult | undefined {
    const r = this.watched.get(jobId);
    this.watched.delete(jobId);
    return r;
  }
}
