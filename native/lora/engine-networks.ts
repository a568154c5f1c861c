// Puts a request's extra networks onto a loaded SD1 model: LoRA sets merged into the text encoder
// and UNet (through the on-disk merge cache), textual-inversion rows appended to the token table,
// and an override VAE. Each part switches only when its weights id changes, so a request that uses
// the same set as the previous one costs nothing, and a part a set leaves alone keeps its sessions.
import { sha256File } from '../models/model-hash.js';
import { EmbeddingTable, scanEmbeddings, SDXL_TOKEN_EMBEDDING_KEYS, TOKEN_EMBEDDING_KEY, type EmbeddingScan, type LoadedEmbedding } from '../embeddings/embedding-table.js';
import type { PartWeights } from '../runtime/model-part.js';
import type { EngineRuntime } from '../runtime/ort-backend.js';
import type { DiffusionModel } from '../runtime/diffusion-model.js';
import { clipLConfig } from '../models/config.js';
import type { WeightSource } from '../runtime/weights.js';
import type { EmbeddingLookup, PromptTokenizer } from '../text/chunking.js';
import type { VaeFile } from '../vae/vae-file.js';
import { familyName } from '../models/checkpoint.js';
import { loraAddnetHash, loraFamily, loraFileParts, readLoraFile } from './lora-file.js';
import { NetworkError } from './lora-error.js';
import type { LazyLora } from './lora-merge.js';
import { MergedLoraCache } from './merged-cache.js';
import { ortMatmul } from './ort-matmul.js';

/** One LoRA of a request, resolved to a file; names are unique (duplicates already summed). */
export interface LoraUse {
  /** The name as the user wrote it (infotext `Lora hashes`). */
  name: string;
  path: string;
  teWeight: number;
  unetWeight: number;
}

export interface NetworkRequest {
  loras: readonly LoraUse[];
  /** $MODELS_DIR/embeddings; undefined = no textual inversion. */
  embeddingsDir?: string;
  /** Override VAE; null/undefined = the checkpoint's own. */
  vae?: VaeFile | null;
}

export interface AppliedNetworks {
  /** `name: 12-hex addnet hash`, in request order. */
  loraHashes: { name: string; hash: string }[];
  /** For the prompt chunker; records what the prompts used into `usedEmbeddings`. */
  embeddings?: EmbeddingLookup;
  usedEmbeddings: Map<string, LoadedEmbedding>;
  /** Embedding files that could not be loaded (wrong width, unreadable). */
  skippedEmbeddings: EmbeddingScan['skipped'];
  vae?: { name: string; hash: string };
}

export interface EngineNetworksOptions {
  /** Folder of the merged-LoRA cache. */
  cacheDir: string;
  /** Bytes the cache folder may hold (default 8 GiB). */
  cacheMaxBytes?: number;
  /** Runs large LoRA products on this runtime instead of in JS. */
  runtime?: EngineRuntime;
}

export class EngineNetworks {
  readonly cache: MergedLoraCache;
  private table: EmbeddingTable | undefined;
  private readonly hidden: number;

  constructor(
    private readonly model: DiffusionModel,
    private readonly base: WeightSource,
    /** Identity of the checkpoint file (path, size, mtime): part of every merge id. */
    private readonly baseId: string,
    private readonly tokenizer: PromptTokenizer,
    opts: EngineNetworksOptions,
  ) {
    const runtime = opts.runtime;
    this.cache = new MergedLoraCache({ dir: opts.cacheDir, maxBytes: opts.cacheMaxBytes, matmul: runtime ? () => ortMatmul(runtime) : undefined });
    this.hidden = clipLConfig(model.config).hidden_size;
  }

  /** Merges computed so far (cache misses). */
  get merges(): number {
    return this.cache.merges;
  }

  /**
   * Switches the model's parts to the weights `req` asks for and reports what is in use.
   *
   * @throws NetworkError `bad_lora_file` / `lora_shape_mismatch` for LoRA files that cannot be merged,
   *   `model_family_mismatch` for a LoRA made for another family (A1111 would skip its modules silently)
   */
  async apply(req: NetworkRequest): Promise<AppliedNetworks> {
    const set: LazyLora[] = [];
    const loraHashes: { name: string; hash: string }[] = [];
    const family = this.model.config.family === 'sdxl' ? 'sdxl' : 'sd1';
    for (const l of req.loras) {
      const made = await loraFamily(l.path);
      if (made !== 'unknown' && made !== family) {
        throw new NetworkError('model_family_mismatch', `LoRA "${l.name}" is made for ${familyName(made)} models; the checkpoint is ${familyName(family)}`);
      }
      const [hash, parts] = await Promise.all([loraAddnetHash(l.path), loraFileParts(l.path, family)]);
      loraHashes.push({ name: l.name, hash: hash.slice(0, 12) });
      set.push({ hash, teMultiplier: l.teWeight, unetMultiplier: l.unetWeight, parts, load: () => readLoraFile(l.path, (k) => this.base.shape(k), family) });
    }
    const [te, unet] = [await this.cache.variant(this.base, this.baseId, 'textEncoder', set), await this.cache.variant(this.base, this.baseId, 'unet', set)];
    this.model.useWeights('unet', unet);

    let teWeights: PartWeights | null = te;
    const usedEmbeddings = new Map<string, LoadedEmbedding>();
    let embeddings: EmbeddingLookup | undefined;
    let skippedEmbeddings: EmbeddingScan['skipped'] = [];
    if (req.embeddingsDir) {
      const scan = await scanEmbeddings(req.embeddingsDir, this.hidden, family);
      skippedEmbeddings = scan.skipped;
      const vocabRows = this.base.shape(family === 'sdxl' ? SDXL_TOKEN_EMBEDDING_KEYS.clipL : TOKEN_EMBEDDING_KEY)?.[0];
      if (vocabRows !== undefined && (scan.loaded.length > 0 || scan.otherFamily.length > 0)) {
        const table = new EmbeddingTable(scan.loaded, this.tokenizer, vocabRows, scan.otherFamily);
        if (table.id !== this.table?.id) this.table = table;
        embeddings = this.table.lookup(usedEmbeddings);
        if (scan.loaded.length > 0) teWeights = { id: `${te?.id ?? 'base'}+ti-${this.table.id}`, source: this.table.extend(te?.source ?? this.base, family) };
      }
    }
    this.model.useWeights('textEncoder', teWeights);

    const vae = req.vae ?? null;
    this.model.useWeights('vae', vae ? { id: `vae:${vae.version}`, source: vae.overlay(this.base) } : null);
    return {
      loraHashes,
      embeddings,
      usedEmbeddings,
      skippedEmbeddings,
      vae: vae ? { name: vae.name, hash: (await sha256File(vae.path)).slice(0, 10) } : undefined,
    };
  }

  /** `name: 12-hex` (sha256 of the file) for the embeddings a run used, in first-use order. */
  static async tiHashes(used: ReadonlyMap<string, LoadedEmbedding>): Promise<{ name: string; hash: string }[]> {
    return Promise.all([...used.values()].map(async (e) => ({ name: e.name, hash: (await sha256File(e.path)).slice(0, 12) })));
  }

  close(): Promise<void> {
    return this.cache.close();
  }
}
