// Which decoder makes a live preview, and how much time previews may take. A1111's "Live preview
// method" (show_progress_type): `cheap` (its "Approx cheap": a 4×3 projection at latent size,
// ~1 ms), `taesd` (the tiny autoencoder, full image size), `full` (the model's VAE), and `auto`
// (the default here): TAESD when the family's TAESD file is installed, else cheap.
//
// On this engine an ONNX Runtime run blocks the JS thread, so a preview stalls the sampler for its
// whole duration. A TAESD decode of 512² takes ~1–2 s on a 2-core CPU (a UNet step ~6 s), so
// previews are held to a budget: a sharp preview is made only while all previews of the job so far,
// plus this one (estimated from the last), stay within `budgetShare` (5 %) of the job's time;
// otherwise that cadence point gets the cheap preview, which costs ~1 ms. On a GPU, TAESD takes
// milliseconds and every cadence point gets it.
import { performance } from 'node:perf_hooks';
import type { TaesdDecoder } from '../taesd/taesd-decoder.js';
import { decodeLatent } from './decode-latents.js';
import type { Engine } from './engine.js';
import { previewJpeg, type PreviewFamily } from './preview.js';
import { encodeJpeg } from './resize.js';

export const PREVIEW_METHODS = ['auto', 'cheap', 'taesd', 'full'] as const;
export type PreviewMethod = (typeof PREVIEW_METHODS)[number];

/** Share of a job's time live previews may take. */
export const DEFAULT_PREVIEW_BUDGET = 0.05;

export interface LivePreviewOptions {
  method?: PreviewMethod;
  /** The TAESD decoder for this model's family, when installed. */
  taesd?: TaesdDecoder | null;
  /** 0..1 (default 0.05); 1 turns the budget off. */
  budgetShare?: number;
  /** Clock in ms and the remembered costs (tests; default: performance.now and the process-wide table). */
  now?: () => number;
  costs?: Map<string, number>;
}

export interface PreviewImage {
  jpeg: Uint8Array;
  width: number;
  height: number;
  /** The decoder that made it. */
  method: 'cheap' | 'taesd' | 'full';
}

/** `method` as a user gave it (setting, env), or null when it names no method. */
export function parsePreviewMethod(v: string | undefined): PreviewMethod | null {
  const m = (v ?? '').trim().toLowerCase();
  return (PREVIEW_METHODS as readonly string[]).includes(m) ? (m as PreviewMethod) : null;
}

/**
 * Last measured cost of each decoder in this process, in ms per latent pixel (the work of every
 * decoder here grows with the pixel count): what its next preview, at any size, will cost.
 */
const LAST_COST = new Map<string, number>();

/**
 * Keeps preview time within a share of elapsed time: allowed when spent + estimate ≤ share ×
 * (elapsed + estimate). The estimate is the decoder's last measured cost per latent pixel times
 * this preview's pixels, remembered across jobs (`costs`), so a hires pass at 4× the pixels is
 * estimated at 4× the cost. Only the very first sharp preview of a decoder in the process runs
 * without one (and, paying for its session, makes a high estimate that the next corrects).
 */
export class PreviewBudget {
  private readonly start: number;
  private spent = 0;

  constructor(
    private readonly share: number,
    private readonly now: () => number = () => performance.now(),
    private readonly last: Map<string, number> = LAST_COST,
  ) {
    this.start = now();
  }

  allows(kind: string, pixels: number): boolean {
    if (this.share >= 1) return true;
    const est = (this.last.get(kind) ?? 0) * pixels;
    const elapsed = this.now() - this.start;
    return this.spent + est <= this.share * (elapsed + est);
  }

  record(kind: string, pixels: number, ms: number): void {
    this.spent += ms;
    this.last.set(kind, ms / pixels);
  }

  /** Milliseconds of previews so far. */
  get spentMs(): number {
    return this.spent;
  }
}

/** One job's live previews: picks the decoder per cadence point and keeps the budget. */
export class LivePreview {
  private readonly budget: PreviewBudget;
  private readonly now: () => number;
  /** The sharp decoder this job uses (cheap when none); drops to cheap for the rest of the job if it fails. */
  method: 'cheap' | 'taesd' | 'full';

  constructor(
    private readonly engine: Engine,
    private readonly opts: LivePreviewOptions = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.budget = new PreviewBudget(opts.budgetShare ?? DEFAULT_PREVIEW_BUDGET, this.now, opts.costs);
    const m = opts.method ?? 'auto';
    const taesd = opts.taesd && opts.taesd.family === this.family ? opts.taesd : null;
    // `taesd` without the file falls back to cheap, as `auto` does.
    this.method = m === 'full' ? 'full' : (m === 'auto' || m === 'taesd') && taesd ? 'taesd' : 'cheap';
  }

  private get family(): PreviewFamily {
    return this.engine.family === 'sdxl' ? 'sdxl' : 'sd1';
  }

  /** The preview of image 0 of a [B, 4, h, w] latent (UNet scale). */
  async render(latent: Float32Array, dims: { batch: number; h: number; w: number }): Promise<PreviewImage> {
    const { h, w } = dims;
    const sharp = this.method !== 'cheap' && this.budget.allows(this.method, h * w);
    const t0 = this.now();
    let out: PreviewImage | null = null;
    if (sharp) {
      try {
        const one = latent.subarray(0, 4 * h * w);
        const rgb = this.method === 'taesd' ? await this.opts.taesd!.decodeToRaster(one, h, w) : await decodeLatent(this.engine, latent, 0, h, w);
        out = { jpeg: bytes(await encodeJpeg(rgb, 80)), width: rgb.width, height: rgb.height, method: this.method };
      } catch (err) {
        // A preview must never fail the job: report once, then cheap previews for the rest of it.
        console.warn(`live preview with ${this.method} failed, using the cheap method for this job: ${err instanceof Error ? err.message : String(err)}`);
        this.method = 'cheap';
      }
    }
    out ??= { jpeg: bytes(await previewJpeg(latent, dims, 0, this.family)), width: w, height: h, method: 'cheap' };
    this.budget.record(out.method, h * w, this.now() - t0);
    return out;
  }

  get spentMs(): number {
    return this.budget.spentMs;
  }
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
