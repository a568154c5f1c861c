// Prompt → 77-token chunks with per-token multipliers, as AUTOMATIC1111 v1.10.1 builds them
// (`modules/sd_hijack_clip.py: FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line`): 75 prompt
// tokens per chunk between BOS and EOS, padded with EOS; `BREAK` closes a chunk; when a chunk fills
// up and the next token is not a comma, the tokens after the last comma (if it is within the last
// `commaPaddingBacktrack` tokens) move to the next chunk. Textual-inversion embeddings are found
// here too, by the token ids of their names: an embedding of n vectors takes n positions and
// never straddles two chunks (A1111 starts a new chunk when it would not fit).

import { isBreakRun, parsePromptAttention, type AttentionRun } from './prompt-attention.js';

/** What chunking needs from a tokenizer (ClipTokenizer satisfies it). */
export interface PromptTokenizer {
  encode(text: string): number[];
  readonly bosId: number;
  readonly eosId: number;
  /** Id of `,</w>`; without it there is no comma backtracking. */
  readonly commaId: number | undefined;
}

/** A1111's "Emphasis mode" option. */
export type EmphasisMode = 'Original' | 'No norm' | 'Ignore' | 'None';

export interface PromptChunk {
  /** `[BOS, 75 tokens, EOS]` = 77 ids. */
  tokens: number[];
  /** One multiplier per id (1.0 for BOS, EOS and padding). */
  multipliers: number[];
}

export interface TokenizedLine {
  chunks: PromptChunk[];
  /** Prompt tokens, counting full chunks as 75 (A1111's token counter). */
  tokenCount: number;
}

/** A textual-inversion embedding found in a prompt's tokens. */
export interface EmbeddingMatch {
  /** The embedding's name (file stem). */
  name: string;
  /** The ids that stand for its vectors (rows appended to the token table), one per vector. */
  ids: readonly number[];
  /** How many prompt tokens its name took. */
  nameLength: number;
}

/** Finds embeddings by the token ids of their names (A1111 `find_embedding_at_position`). */
export interface EmbeddingLookup {
  findAt(tokens: readonly number[], position: number): EmbeddingMatch | undefined;
}

export interface ChunkingOptions {
  /** Textual-inversion embeddings to recognise (none by default). */
  embeddings?: EmbeddingLookup;
  /** Default 'Original'; 'None' skips the attention syntax entirely. */
  emphasis?: EmphasisMode;
  /** A1111's `comma_padding_backtrack`, default 20; 0 disables it. */
  commaPaddingBacktrack?: number;
}

/** Prompt tokens per chunk; with BOS and EOS a chunk is 77 ids, CLIP's context length. */
export const CHUNK_LENGTH = 75;
export const DEFAULT_COMMA_BACKTRACK = 20;

/** The chunk A1111 uses to fill out shorter prompts of a batch: BOS then EOS ×76, all weights 1. */
export function emptyChunk(tokenizer: Pick<PromptTokenizer, 'bosId' | 'eosId'>): PromptChunk {
  return {
    tokens: [tokenizer.bosId, ...new Array<number>(CHUNK_LENGTH + 1).fill(tokenizer.eosId)],
    multipliers: new Array<number>(CHUNK_LENGTH + 2).fill(1.0),
  };
}

/** The token count shown in A1111's counter: the next multiple of 75 (at least 75). */
export function targetPromptTokenCount(tokenCount: number): number {
  return Math.ceil(Math.max(tokenCount, 1) / CHUNK_LENGTH) * CHUNK_LENGTH;
}

/**
 * Splits one prompt into chunks.
 *
 * @example tokenizeLine('a cat BREAK a dog', tok).chunks.length // 2
 * @throws TextError `bad_attention_weight` from the attention parser
 */
export function tokenizeLine(line: string, tokenizer: PromptTokenizer, opts: ChunkingOptions = {}): TokenizedLine {
  const emphasis = opts.emphasis ?? 'Original';
  const backtrack = opts.commaPaddingBacktrack ?? DEFAULT_COMMA_BACKTRACK;
  const parsed: AttentionRun[] = emphasis === 'None' ? [[line, 1.0]] : parsePromptAttention(line);

  const chunks: PromptChunk[] = [];
  let tokens: number[] = [];
  let multipliers: number[] = [];
  let tokenCount = 0;
  let lastComma = -1;

  const nextChunk = (isLast = false): void => {
    tokenCount += isLast ? tokens.length : CHUNK_LENGTH;
    const toAdd = CHUNK_LENGTH - tokens.length;
    if (toAdd > 0) {
      tokens.push(...new Array<number>(toAdd).fill(tokenizer.eosId));
      multipliers.push(...new Array<number>(toAdd).fill(1.0));
    }
    chunks.push({ tokens: [tokenizer.bosId, ...tokens, tokenizer.eosId], multipliers: [1.0, ...multipliers, 1.0] });
    tokens = [];
    multipliers = [];
    lastComma = -1;
  };

  for (const run of parsed) {
    if (isBreakRun(run)) {
      nextChunk();
      continue;
    }
    const [text, weight] = run;
    const runTokens = tokenizer.encode(text);
    let position = 0;
    while (position < runTokens.length) {
      const token = runTokens[position];
      if (tokenizer.commaId !== undefined && token === tokenizer.commaId) {
        lastComma = tokens.length;
      } else if (backtrack !== 0 && tokens.length === CHUNK_LENGTH && lastComma !== -1 && tokens.length - lastComma <= backtrack) {
        // Move what follows the last comma into the next chunk so a phrase is not cut in two.
        const breakAt = lastComma + 1;
        const relocTokens = tokens.slice(breakAt);
        const relocMultipliers = multipliers.slice(breakAt);
        tokens = tokens.slice(0, breakAt);
        multipliers = multipliers.slice(0, breakAt);
        nextChunk();
        tokens = relocTokens;
        multipliers = relocMultipliers;
      }
      if (tokens.length === CHUNK_LENGTH) nextChunk();
      const embedding = opts.embeddings?.findAt(runTokens, position);
      if (!embedding) {
        tokens.push(token);
        multipliers.push(weight);
        position++;
        continue;
      }
      if (tokens.length + embedding.ids.length > CHUNK_LENGTH) nextChunk();
      tokens.push(...embedding.ids);
      multipliers.push(...new Array<number>(embedding.ids.length).fill(weight));
      position += embedding.nameLength;
    }
  }
  if (tokens.length > 0 || chunks.length === 0) nextChunk(true);
  return { chunks, tokenCount };
}
