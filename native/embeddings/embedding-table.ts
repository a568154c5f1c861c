// Textual-inversion embeddings in use: the files of $MODELS_DIR/embeddings (named by file stem, as
// A1111 names them), loaded once per file version, and injected by appending their vectors to the
// CLIP token-embedding table. Each vector gets an id ≥ the checkpoint's vocabulary size, the prompt
// chunker puts those ids where the embedding's name was, and the ONNX text encoder's Gather reads the
// appended rows — the same numbers A1111's EmbeddingsWithFixes splices into `inputs_embeds`.
// The table holds every loaded embedding, so it (and the text encoder session) changes only when
// the folder does, not with each prompt.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { WeightSource } from '../runtime/weights.js';
import { CHUNK_LENGTH, type EmbeddingLookup, type EmbeddingMatch } from '../text/chunking.js';
import { NetworkError } from '../lora/lora-error.js';
import { EMBEDDING_EXTENSIONS, readEmbeddingFile, type EmbeddingData } from './embedding-file.js';

/** The CLIP token table of SD1 single-file checkpoints. */
export const TOKEN_EMBEDDING_KEY = 'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight';
/** SDXL's two token tables: CLIP-L and OpenCLIP (each gets its own part of an SDXL embedding). */
export const SDXL_TOKEN_EMBEDDING_KEYS = {
  clipL: 'conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight',
  clipG: 'conditioner.embedders.1.model.token_embedding.weight',
} as const;

/** Which kind of embedding files a model takes. */
export type EmbeddingFamily = 'sd1' | 'sdxl';

export interface LoadedEmbedding extends EmbeddingData {
  name: string;
  path: string;
  /** path:size:mtime, for cache ids. */
  version: string;
}

export interface EmbeddingScan {
  loaded: LoadedEmbedding[];
  /** Files that could not be used (wrong width, unreadable), with why; A1111 lists these as "skipped". */
  skipped: { path: string; reason: string }[];
  /** Well-formed embeddings made for the other family, by name: a prompt naming one is refused. */
  otherFamily: { name: string; path: string; family: EmbeddingFamily }[];
}

const fileCache = new Map<string, EmbeddingData | Error>();

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, f))
    .filter((p) => (EMBEDDING_EXTENSIONS as readonly string[]).includes(extname(p).toLowerCase()) && statSync(p).isFile())
    .sort();
}

/**
 * Loads the embeddings of a folder (subfolders included) whose width is `dim`. Files are parsed
 * once per size and mtime. When two files share a stem the first in path order wins.
 */
export async function scanEmbeddings(dir: string, dim: number, family: EmbeddingFamily = 'sd1'): Promise<EmbeddingScan> {
  const loaded: LoadedEmbedding[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const otherFamily: EmbeddingScan['otherFamily'] = [];
  const names = new Set<string>();
  for (const path of listFiles(dir)) {
    const st = statSync(path);
    const version = `${path}:${st.size}:${st.mtimeMs}`;
    let data = fileCache.get(version);
    if (!data) {
      data = await readEmbeddingFile(path).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      fileCache.set(version, data);
    }
    const name = basename(path, extname(path));
    const made: EmbeddingFamily | undefined = data instanceof Error ? undefined : data.clipG ? 'sdxl' : data.dim === 768 ? 'sd1' : undefined;
    if (data instanceof Error) skipped.push({ path, reason: data.message });
    else if (made && made !== family) {
      skipped.push({ path, reason: made === 'sdxl' ? 'an SDXL embedding (clip_l + clip_g) cannot be used with SD1 models' : 'an SD1 embedding cannot be used with SDXL models' });
      otherFamily.push({ name, path, family: made });
    } else if (family === 'sdxl' && !data.clipG) skipped.push({ path, reason: 'SDXL models need clip_l and clip_g vectors' });
    else if (data.dim !== dim) skipped.push({ path, reason: `vectors of width ${data.dim}, this model needs ${dim}` });
    else if (data.count > CHUNK_LENGTH) skipped.push({ path, reason: `${data.count} vectors do not fit a ${CHUNK_LENGTH}-token chunk` });
    else if (names.has(name)) skipped.push({ path, reason: `another embedding is already named ${name}` });
    else {
      names.add(name);
      loaded.push({ ...data, name, path, version });
    }
  }
  return { loaded, skipped, otherFamily };
}

interface Entry {
  embedding: LoadedEmbedding;
  nameIds: number[];
  ids: number[];
}

/** What the tokenizer must offer to look names up. */
export interface NameTokenizer {
  encode(text: string): number[];
}

export class EmbeddingTable {
  /** Changes when any embedding's file does; keys the text encoder's sessions. */
  readonly id: string;
  /** Rows appended to the token table. */
  readonly extraRows: number;
  private readonly byFirstId = new Map<number, Entry[]>();
  private readonly entries: Entry[] = [];

  /**
   * @param vocabRows rows of the checkpoint's token table (49408 for SD1); new ids start there
   */
  /** Names of embeddings made for another family: finding one in a prompt is an error. */
  private readonly refused: { nameIds: number[]; name: string; family: EmbeddingFamily }[] = [];

  constructor(
    embeddings: readonly LoadedEmbedding[],
    tokenizer: NameTokenizer,
    readonly vocabRows: number,
    otherFamily: EmbeddingScan['otherFamily'] = [],
  ) {
    for (const o of otherFamily) {
      const nameIds = tokenizer.encode(o.name);
      if (nameIds.length > 0) this.refused.push({ nameIds, name: o.name, family: o.family });
    }
    let next = vocabRows;
    for (const e of embeddings) {
      const nameIds = tokenizer.encode(e.name);
      if (nameIds.length === 0) continue;
      const ids = Array.from({ length: e.count }, (_, i) => next + i);
      next += e.count;
      const entry = { embedding: e, nameIds, ids };
      this.entries.push(entry);
      const list = this.byFirstId.get(nameIds[0]) ?? [];
      list.push(entry);
      // Longest name first, as A1111's ids_lookup is sorted.
      list.sort((a, b) => b.nameIds.length - a.nameIds.length);
      this.byFirstId.set(nameIds[0], list);
    }
    this.extraRows = next - vocabRows;
    this.id = createHash('sha256')
      .update(JSON.stringify([vocabRows, this.entries.map((e) => [e.embedding.name, e.embedding.version]), this.refused.map((r) => r.name)]))
      .digest('hex')
      .slice(0, 24);
  }

  get size(): number {
    return this.entries.length;
  }

  /** A lookup for one request: every embedding it finds is added to `used` (name → embedding). */
  lookup(used: Map<string, LoadedEmbedding>): EmbeddingLookup {
    return {
      findAt: (tokens: readonly number[], position: number): EmbeddingMatch | undefined => {
        const candidates = this.byFirstId.get(tokens[position]);
        if (!candidates) {
          const r = this.refused.find((x) => x.nameIds.every((id, i) => tokens[position + i] === id));
          if (r) {
            throw new NetworkError('model_family_mismatch', `embedding "${r.name}" is made for ${r.family === 'sdxl' ? 'SDXL' : 'SD 1.x'} models and cannot be used with this checkpoint`);
          }
          return undefined;
        }
        for (const c of candidates) {
          if (c.nameIds.every((id, i) => tokens[position + i] === id)) {
            used.set(c.embedding.name, c.embedding);
            return { name: c.embedding.name, ids: c.ids, nameLength: c.nameIds.length };
          }
        }
        return undefined;
      },
    };
  }

  /**
   * `base` with the embedding vectors appended as rows of the token table: SD1's one table, or for
   * `family` 'sdxl' the CLIP-L table (clip_l vectors) and the OpenCLIP table (clip_g vectors).
   */
  extend(base: WeightSource, family: EmbeddingFamily = 'sd1'): WeightSource {
    const tables = new Map<string, (e: LoadedEmbedding) => Float32Array>(
      family === 'sdxl'
        ? [
            [SDXL_TOKEN_EMBEDDING_KEYS.clipL, (e) => e.vectors],
            [SDXL_TOKEN_EMBEDDING_KEYS.clipG, (e) => e.clipG!.vectors],
          ]
        : [[TOKEN_EMBEDDING_KEY, (e) => e.vectors]],
    );
    const rows = this.extraRows;
    const entries = this.entries;
    return {
      shape: (k) => {
        const s = base.shape(k);
        return tables.has(k) && s ? [s[0] + rows, ...s.slice(1)] : s;
      },
      readFloat32: async (k) => {
        const table = await base.readFloat32(k);
        const vectorsOf = tables.get(k);
        if (!vectorsOf) return table;
        const out = new Float32Array(table.length + rows * (table.length / this.vocabRows)); // [vocab + extra, C]
        out.set(table);
        let offset = table.length;
        for (const e of entries) {
          const v = vectorsOf(e.embedding);
          out.set(v, offset);
          offset += v.length;
        }
        return out;
      },
    };
  }
}
