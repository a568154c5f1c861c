// The CLIP byte-level BPE tokenizer, as transformers' slow `CLIPTokenizer` (4.30) runs it with ftfy:
// split out the literal special tokens, then per piece `fixText` → whitespace collapse → lowercase →
// CLIP's pre-tokenizer regex → UTF-8 bytes through byte-to-unicode → BPE with `</w>` on the last
// symbol. Files: Hugging Face `vocab.json` + `merges.txt` (the layout of openai/clip-vit-large-patch14).

import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TextError } from './errors.js';
import { fixText, unescapeHtml, whitespaceClean } from './text-clean.js';
import { bpeMerge } from './bpe-merge.js';

export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';
const END_OF_WORD = '</w>';
// transformers keeps merges [1 : 49152 - 256 - 2 + 1] of merges.txt (line 0 is "#version: 0.2").
const MAX_MERGES = 49152 - 256 - 2;
// Words seen by a long-running server are unbounded; start over rather than grow without limit.
const MAX_CACHED_WORDS = 100_000;

const SPECIAL_SPLIT_RE = /(<\|startoftext\|>|<\|endoftext\|>)/;
// open_clip's SimpleTokenizer names the same two ids differently and finds them after cleaning.
const OPEN_CLIP_BOS = '<start_of_text>';
const OPEN_CLIP_EOS = '<end_of_text>';
const OPEN_CLIP_RE = /<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
// CLIP's pre-tokenizer (`regex` module, IGNORECASE); digits are single tokens.
const PRETOKENIZE_RE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** GPT-2's reversible byte → printable character map used by CLIP's vocabulary. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const map: string[] = new Array<string>(256);
  for (const b of bs) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  }
  return map;
}

const BYTE_ENCODER = bytesToUnicode();
const UTF8 = new TextEncoder();

export interface ClipTokenizerFiles {
  /** Token → id, as in vocab.json. */
  vocab: Record<string, number>;
  /** Merge rules "a b", in rank order (without the "#version" header). */
  merges: string[];
}

/**
 * Which implementation to reproduce: transformers' CLIPTokenizer (SD1, SDXL's CLIP-L) or open_clip's
 * SimpleTokenizer (SDXL's OpenCLIP bigG). Same id table and BPE; they differ in text cleaning
 * (open_clip: ftfy, then HTML-unescape twice, on the whole text) and in the special-token names.
 */
export type TokenizerFlavor = 'transformers' | 'open_clip';

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  /** Id of `,</w>`, the token A1111's comma backtracking looks for. */
  readonly commaId: number | undefined;
  readonly vocabSize: number;
  private readonly encoder: Map<string, number>;
  private decoder: Map<number, string> | undefined;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();

  constructor(
    files: ClipTokenizerFiles,
    readonly flavor: TokenizerFlavor = 'transformers',
  ) {
    this.encoder = new Map();
    for (const key in files.vocab) {
      const id = files.vocab[key];
      if (!Number.isInteger(id)) {
        throw new TextError('bad_tokenizer_files', `vocab.json maps ${JSON.stringify(key)} to ${JSON.stringify(id)}, expected an integer id`);
      }
      this.encoder.set(key, id);
    }
    this.ranks = new Map();
    const mergeCount = Math.min(files.merges.length, MAX_MERGES);
    for (let i = 0; i < mergeCount; i++) this.ranks.set(files.merges[i], i);
    const bos = this.encoder.get(BOS_TOKEN);
    const eos = this.encoder.get(EOS_TOKEN);
    if (bos === undefined || eos === undefined) {
      throw new TextError('bad_tokenizer_files', `vocab.json must contain ${BOS_TOKEN} and ${EOS_TOKEN}`);
    }
    this.bosId = bos;
    this.eosId = eos;
    this.commaId = this.encoder.get(`,${END_OF_WORD}`);
    this.vocabSize = this.encoder.size;
    this.seedCache();
  }

  /**
   * BPE tokens of a text, without BOS/EOS, padding or truncation.
   *
   * @example tok.tokenize('Hello, World!') // ['hello</w>', ',</w>', 'world</w>', '!</w>']
   */
  tokenize(text: string): string[] {
    if (this.flavor === 'open_clip') return this.tokenizeOpenClip(text);
    const out: string[] = [];
    for (const piece of text.split(SPECIAL_SPLIT_RE)) {
      if (piece === BOS_TOKEN || piece === EOS_TOKEN) {
        out.push(piece);
        continue;
      }
      const clean = whitespaceClean(fixText(piece)).toLowerCase();
      for (const m of clean.matchAll(PRETOKENIZE_RE)) {
        const word = Array.from(UTF8.encode(m[0]), (b) => BYTE_ENCODER[b]).join('');
        out.push(...this.bpe(word));
      }
    }
    return out;
  }

  // open_clip 2.20 `SimpleTokenizer.encode`: whitespace_clean(basic_clean(text)).lower(), where
  // basic_clean = ftfy.fix_text, html.unescape twice, strip; its special names map to BOS/EOS.
  private tokenizeOpenClip(text: string): string[] {
    const clean = whitespaceClean(unescapeHtml(unescapeHtml(fixText(text))).trim()).toLowerCase();
    const out: string[] = [];
    for (const m of clean.matchAll(OPEN_CLIP_RE)) {
      const t = m[0];
      if (t === OPEN_CLIP_BOS || t === OPEN_CLIP_EOS) {
        out.push(t === OPEN_CLIP_BOS ? BOS_TOKEN : EOS_TOKEN);
        continue;
      }
      out.push(...this.bpe(Array.from(UTF8.encode(t), (b) => BYTE_ENCODER[b]).join('')));
    }
    return out;
  }

  /** The same vocabulary read the other implementation's way (SDXL's second encoder). */
  withFlavor(flavor: TokenizerFlavor): ClipTokenizer {
    if (flavor === this.flavor) return this;
    const t = Object.create(ClipTokenizer.prototype) as ClipTokenizer;
    Object.assign(t, this, { flavor, cache: new Map(this.cache) });
    return t;
  }

  /**
   * Token ids of a text, without BOS/EOS (`tokenizer(text, add_special_tokens=False)`).
   *
   * @example tok.encode('a photograph of an astronaut') // [320, 8853, 539, 550, 18376]
   */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.encoder.get(t) ?? this.eosId);
  }

  /** The vocabulary entry of an id (for diagnostics and token counters). */
  idToToken(id: number): string | undefined {
    this.decoder ??= new Map([...this.encoder].map(([k, v]) => [v, k]));
    return this.decoder.get(id);
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    const word = bpeMerge([...token.slice(0, -1), token.slice(-1) + END_OF_WORD], this.ranks);
    if (this.cache.size >= MAX_CACHED_WORDS) this.seedCache();
    this.cache.set(token, word);
    return word;
  }

  // As in transformers: a special token that reaches BPE (e.g. `<|ENDOFTEXT|>`, lowercased after the
  // case-sensitive split) stays one token.
  private seedCache(): void {
    this.cache.clear();
    this.cache.set(BOS_TOKEN, [BOS_TOKEN]);
    this.cache.set(EOS_TOKEN, [EOS_TOKEN]);
  }
}

/** Parses the two Hugging Face files into a tokenizer. */
export function clipTokenizerFromFiles(vocabJson: string, mergesTxt: string): ClipTokenizer {
  let vocab: Record<string, number>;
  try {
    vocab = JSON.parse(vocabJson) as Record<string, number>;
  } catch (e) {
    throw new TextError('bad_tokenizer_files', `vocab.json is not valid JSON: ${(e as Error).message}`);
  }
  // transformers: read().strip().split("\n")[1:...] — the first line is the "#version" header.
  const merges = mergesTxt.trim().split(/\r?\n/).slice(1);
  if (merges.length === 0 || merges.some((m) => m.indexOf(' ') <= 0 || m.indexOf(' ') !== m.lastIndexOf(' '))) {
    throw new TextError('bad_tokenizer_files', 'merges.txt must hold one "a b" merge per line after its "#version" header');
  }
  return new ClipTokenizer({ vocab, merges });
}

/**
 * Loads `vocab.json` and `merges.txt` from a tokenizer folder.
 *
 * @throws TextError `bad_tokenizer_files` when a file is missing or malformed
 */
export async function loadClipTokenizer(dir: string): Promise<ClipTokenizer> {
  const vocabPath = join(dir, 'vocab.json');
  const mergesPath = join(dir, 'merges.txt');
  for (const p of [vocabPath, mergesPath]) {
    if (!existsSync(p)) throw new TextError('bad_tokenizer_files', `tokenizer file missing: ${p}`);
  }
  const [vocabJson, mergesTxt] = await Promise.all([readFile(vocabPath, 'utf8'), readFile(mergesPath, 'utf8')]);
  return clipTokenizerFromFiles(vocabJson, mergesTxt);
}

export interface TokenizerSearch {
  /** `--tokenizer DIR`: used as given. */
  explicitDir?: string;
  /** A checkpoint path; when it is a diffusers folder its `tokenizer/` is used. */
  checkpointPath?: string;
  /** The models root (`$MODELS_DIR`); `tokenizers/clip-vit-large-patch14/` under it. */
  modelsDir?: string;
}

/** Sub-folder of `$MODELS_DIR` holding the CLIP-L tokenizer shared by SD1 checkpoints. */
export const SHARED_TOKENIZER_SUBDIR = join('tokenizers', 'clip-vit-large-patch14');

function hasTokenizerFiles(dir: string): boolean {
  return existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'));
}

/**
 * Finds the tokenizer folder: the explicit one, else the diffusers folder's `tokenizer/`, else
 * `$MODELS_DIR/tokenizers/clip-vit-large-patch14/` (`modelsDir` defaults to `process.env.MODELS_DIR`).
 *
 * @throws TextError `tokenizer_not_found`, listing the places tried
 */
export function findTokenizerDir(search: TokenizerSearch): string {
  const tried: string[] = [];
  if (search.explicitDir !== undefined) {
    if (hasTokenizerFiles(search.explicitDir)) return search.explicitDir;
    throw new TextError('tokenizer_not_found', `--tokenizer ${search.explicitDir} has no vocab.json and merges.txt`);
  }
  const cp = search.checkpointPath;
  if (cp !== undefined && existsSync(cp) && statSync(cp).isDirectory()) {
    const dir = join(cp, 'tokenizer');
    if (hasTokenizerFiles(dir)) return dir;
    tried.push(dir);
  }
  const modelsDir = search.modelsDir ?? process.env.MODELS_DIR;
  if (modelsDir !== undefined) {
    const dir = join(modelsDir, SHARED_TOKENIZER_SUBDIR);
    if (hasTokenizerFiles(dir)) return dir;
    tried.push(dir);
  }
  throw new TextError(
    'tokenizer_not_found',
    `no CLIP tokenizer found (tried ${tried.length > 0 ? tried.join(', ') : 'nothing: no diffusers folder and MODELS_DIR unset'}); ` +
      'pass --tokenizer DIR or put vocab.json and merges.txt in $MODELS_DIR/tokenizers/clip-vit-large-patch14/',
  );
}
