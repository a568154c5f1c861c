// Merged LoRA sets, cached on disk. A set's merged tensors (only the keys it changes, float32) are
// written once per model part to `<dir>/<id>.safetensors`, id = sha256 of (checkpoint identity,
// part, sorted [(LoRA content hash, multiplier)]). Every session built for that set afterwards —
// another shape, or the same set again after switching away — reads them from the file instead of
// redoing the merge. The folder is bounded by total bytes and evicted least recently used (mtime).
//
// Why disk and not memory: sessions are per shape, so a set is re-read every time a new
// shape's session is built; SD1.5's UNet merged in float32 is up to 3.4 GB (attention-only LoRAs
// touch ~0.4 GB), too much to keep several in RAM next to ORT's own copies.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensorsStreamed } from '../io/safetensors.js';
import type { PartWeights } from '../runtime/model-part.js';
import type { WeightSource } from '../runtime/weights.js';
import type { MatmulFn } from './ort-matmul.js';
import { activeForPart, mergeWeight, mergeWeightWith, touchedKeys, type AppliedLora, type LazyLora, type LoraPart, type LoraSetMember } from './lora-merge.js';

export interface MergedCacheOptions {
  dir: string;
  /** Total bytes the folder may hold (default 8 GiB); the newest file is always kept. */
  maxBytes?: number;
  /** Runs the LoRA products (see ort-matmul.ts); default: plain JS. Called per merge, released after. */
  matmul?: () => MatmulFn & { release(): Promise<void> };
}

export const DEFAULT_MERGED_CACHE_BYTES = 8 * 1024 ** 3;
const FORMAT = 'easel-lora-merge-v1';

/** Tensors from `file` where it has them, the rest from `base`. The file opens on first read. */
class OverlaySource implements WeightSource {
  private file: Promise<SafetensorsFile> | undefined;
  private readonly keys: Set<string>;

  constructor(
    private readonly base: WeightSource,
    readonly path: string,
    keys: readonly string[],
  ) {
    this.keys = new Set(keys);
  }

  shape(key: string): readonly number[] | undefined {
    return this.base.shape(key);
  }

  async readFloat32(key: string): Promise<Float32Array> {
    if (!this.keys.has(key)) return this.base.readFloat32(key);
    this.file ??= SafetensorsFile.open(this.path);
    return (await this.file).readFloat32(key);
  }

  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    await (await f?.catch(() => undefined))?.close();
  }
}

/** LRU order is mtime. */
function touch(path: string): void {
  const now = new Date();
  utimesSync(path, now, now);
}

export class MergedLoraCache {
  /** How many part merges were computed (cache misses); tests and logs read it. */
  merges = 0;
  /** Milliseconds spent merging and writing (misses only). */
  mergeMs = 0;
  private readonly open = new Map<string, OverlaySource>();
  private readonly maxBytes: number;

  constructor(private readonly opts: MergedCacheOptions) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MERGED_CACHE_BYTES;
  }

  /** The cache id of `set` applied to `part` of the checkpoint `baseId`; undefined when the set leaves the part unchanged. */
  variantId(baseId: string, part: LoraPart, set: readonly LoraSetMember[]): string | undefined {
    const active = activeForPart(set, part);
    if (active.length === 0) return undefined;
    const desc = JSON.stringify([FORMAT, baseId, part, active.map((l) => [l.hash, part === 'unet' ? l.unetMultiplier : l.teMultiplier])]);
    return `${part}-${createHash('sha256').update(desc).digest('hex').slice(0, 32)}`;
  }

  /**
   * The weights of `part` with `set` merged, from the cache or merged now; null when the set does
   * not change the part (use the checkpoint as it is).
   */
  async variant(base: WeightSource, baseId: string, part: LoraPart, set: readonly (AppliedLora | LazyLora)[]): Promise<PartWeights | null> {
    const id = this.variantId(baseId, part, set);
    if (!id) return null;
    const path = join(this.opts.dir, `${id}.safetensors`);
    let overlay = this.open.get(id);
    if (overlay && existsSync(path)) {
      this.open.delete(id);
      touch(path);
    } else {
      await overlay?.close();
      let keys: string[];
      if (existsSync(path)) {
        touch(path);
        const f = await SafetensorsFile.open(path);
        keys = f.keys();
        await f.close();
      } else {
        const active = await Promise.all(activeForPart(set, part).map(async (l): Promise<AppliedLora> => ('network' in l ? l : { ...l, network: await l.load() })));
        keys = touchedKeys(active, part);
        await this.merge(base, path, keys, active);
      }
      overlay = new OverlaySource(base, path, keys);
    }
    this.open.set(id, overlay);
    await this.trimOpen();
    return { id, source: overlay };
  }

  private async merge(base: WeightSource, path: string, keys: readonly string[], active: readonly AppliedLora[]): Promise<void> {
    const t = performance.now();
    const specs = keys.map((name) => ({ name, dtype: 'F32' as const, shape: [...base.shape(name)!] }));
    const tmp = `${path}.${process.pid}.tmp`;
    mkdirSync(this.opts.dir, { recursive: true }); // only once something is merged
    try {
      const mm = this.opts.matmul?.();
      try {
        await writeSafetensorsStreamed(tmp, specs, async (s) => {
          const w = await base.readFloat32(s.name);
          return mm ? mergeWeightWith(s.name, w, s.shape, active, mm) : mergeWeight(s.name, w, s.shape, active);
        });
      } finally {
        await mm?.release();
      }
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    this.merges++;
    this.mergeMs += performance.now() - t;
    this.evict(path);
  }

  /** Keeps the 8 most recent overlays open; older ones close (and reopen if read again). */
  private async trimOpen(): Promise<void> {
    while (this.open.size > 8) {
      const [id, o] = this.open.entries().next().value as [string, OverlaySource];
      this.open.delete(id);
      await o.close();
    }
  }

  /** Deletes least recently used files until the folder fits; never `keep` nor files still open. */
  private evict(keep: string): void {
    const inUse = new Set([keep, ...[...this.open.values()].map((o) => o.path)]);
    const files = readdirSync(this.opts.dir)
      .filter((f) => f.endsWith('.safetensors'))
      .map((f) => {
        const p = join(this.opts.dir, f);
        const st = statSync(p);
        return { p, size: st.size, mtime: st.mtimeMs };
      })
      .sort((a, b) => a.mtime - b.mtime);
    let total = files.reduce((n, f) => n + f.size, 0);
    for (const f of files) {
      if (total <= this.maxBytes) break;
      if (inUse.has(f.p)) continue;
      rmSync(f.p, { force: true });
      total -= f.size;
    }
  }

  /** Total bytes in the cache folder. */
  sizeOnDisk(): number {
    if (!existsSync(this.opts.dir)) return 0;
    return readdirSync(this.opts.dir)
      .filter((f) => f.endsWith('.safetensors'))
      .reduce((n, f) => n + statSync(join(this.opts.dir, f)).size, 0);
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((o) => o.close()));
  }
}
