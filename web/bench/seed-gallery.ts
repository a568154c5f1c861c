// Bench-only: fills a DATA_DIR's gallery with N images fast enough for 10,000 of them, before the
// server starts. Rows go in through the store's documented bulk path (`insertRecords`), each with
// its own id, created_at, seed, prompt and file; the files on disk are real (a 64×64 PNG with its
// infotext, a WebP thumbnail made by the store's own `makeThumbnail`) but encoded once and
// hard-linked under every row's name, so the server's startup reconcile finds every file and every
// thumbnail in place. Nothing here is used by the server itself.
import { copyFileSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { formatInfotext } from '../../server/infotext/format-infotext.js';
import { withPngTextChunk } from '../../server/infotext/png-chunks.js';
import { openDatabase } from '../../server/gallery/database.js';
import { dayFolder, makeThumbnail, newImageId } from '../../server/gallery/gallery-files.js';
import { GalleryStore, type ImportedImageRecord } from '../../server/gallery/gallery-store.js';

export const SEED_IMAGE_SIDE = 64;
/** Rows per insert transaction: bounds memory without paying a transaction per row. */
const BATCH = 1000;
/** Seeded images are this far apart, so 10,000 of them spread over several day folders. */
const SPACING_MS = 37_000;
/** Every Nth image is a favorite, as in a gallery someone uses (favorites are also kept offline). */
const FAVORITE_EVERY = 100;

const SUBJECTS = ['red fox', 'lighthouse', 'humpback whale', 'paper crane', 'old tram', 'fern', 'astronaut', 'teapot', 'owl', 'sailboat'];
const STYLES = ['watercolor', 'oil painting', 'photograph', 'ink sketch', 'low poly render', 'pastel drawing', 'woodcut'];
const PLACES = ['in the snow', 'at dusk', 'under neon lights', 'in a meadow', 'on a rainy street', 'by the sea'];
const MODELS = ['sd15-base.safetensors', 'dreamy-mix.safetensors', 'sd1-tiny.safetensors'];

export interface SeedGalleryOptions {
  /** created_at of the newest image (default: now); older ones follow every SPACING_MS. */
  newestAt?: number;
}

export interface SeedGalleryResult {
  /** Rows inserted. */
  count: number;
  /** Wall time of the whole seeding, ms. */
  ms: number;
}

/** Prompt, task and model of the i-th seeded image: distinct prompts, a realistic mix of the rest. */
export function seededImageMeta(i: number): { prompt: string; task: string; model: string } {
  const prompt = `${STYLES[i % STYLES.length]} of a ${SUBJECTS[(i * 3) % SUBJECTS.length]} ${PLACES[(i * 7) % PLACES.length]}, study ${i + 1}`;
  return { prompt, task: i % 5 === 4 ? 'img2img' : 'txt2img', model: MODELS[i % MODELS.length]! };
}

/** Hard link, or a copy where the filesystem has no links. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * Adds `count` images to the gallery of `dataDir` (its gallery.db, outputs/ and thumbs/), newest
 * first in time order. Run it while no server has the data dir open.
 *
 * @example await seedGalleryImages(dataDir, 10_000) // then startServer(config with DATA_DIR = dataDir)
 */
export async function seedGalleryImages(dataDir: string, count: number, opts: SeedGalleryOptions = {}): Promise<SeedGalleryResult> {
  const t0 = performance.now();
  const newestAt = opts.newestAt ?? Date.now();
  const raw = await sharp({
    create: { width: SEED_IMAGE_SIDE, height: SEED_IMAGE_SIDE, channels: 3, background: { r: 70, g: 110, b: 160 } },
  })
    .png()
    .toBuffer();
  const png = withPngTextChunk(raw, 'parameters', 'Easel bench image\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x64');
  const thumb = await makeThumbnail(png);

  const db = openDatabase(join(dataDir, 'gallery.db'));
  try {
    const store = new GalleryStore({ db, dataDir });
    mkdirSync(store.thumbsDir, { recursive: true });
    const madeDays = new Set<string>();
    let firstPng: string | null = null;
    let firstThumb: string | null = null;
    let inserted = 0;
    let batch: ImportedImageRecord[] = [];
    for (let i = 0; i < count; i++) {
      const createdAt = newestAt - i * SPACING_MS;
      const seed = 1000 + i;
      const day = dayFolder(createdAt);
      if (!madeDays.has(day)) {
        mkdirSync(join(store.outputsDir, day), { recursive: true });
        madeDays.add(day);
      }
      const file = `${day}/${createdAt}-${seed}.png`;
      const id = newImageId();
      const pngPath = join(store.outputsDir, file);
      const thumbPath = store.thumbPath(id);
      if (firstPng === null || firstThumb === null) {
        writeFileSync(pngPath, png);
        writeFileSync(thumbPath, thumb);
        firstPng = pngPath;
        firstThumb = thumbPath;
      } else {
        linkOrCopy(firstPng, pngPath);
        linkOrCopy(firstThumb, thumbPath);
      }
      const m = seededImageMeta(i);
      const meta = {
        task: m.task,
        prompt: m.prompt,
        negative_prompt: 'blurry, lowres',
        model: m.model,
        width: SEED_IMAGE_SIDE,
        height: SEED_IMAGE_SIDE,
        seed,
        steps: 20,
        cfg_scale: 7,
        sampler: 'euler_a',
        scheduler: 'automatic',
      };
      const infotext = formatInfotext({ ...meta, model: m.model.replace(/\.safetensors$/, '') });
      batch.push({ ...meta, id, created_at: createdAt, file, infotext, favorite: i % FAVORITE_EVERY === FAVORITE_EVERY - 1 });
      if (batch.length === BATCH) {
        inserted += store.insertRecords(batch);
        batch = [];
      }
    }
    if (batch.length) inserted += store.insertRecords(batch);
    return { count: inserted, ms: performance.now() - t0 };
  } finally {
    db.close();
  }
}
