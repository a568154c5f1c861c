// Token counting for the prompt boxes, shown A1111-style as "N/75", "N/150"… per 75-token chunk.
// The exact count needs CLIP's 1.6 MB BPE vocabulary, which the app does not bundle: the server
// can answer exactly (see data/tokenize.ts); this module gives the chunk arithmetic and a clearly
// labelled estimate from a word/punctuation heuristic for when it cannot.

/** CLIP's usable tokens per chunk (77 minus BOS and EOS). */
export const CHUNK_TOKENS = 75;

/**
 * Letter runs up to this length are usually one CLIP token (common English words, even long ones
 * like "photograph"); longer runs are split into pieces of about LONG_WORD_PIECE letters.
 */
const SINGLE_TOKEN_WORD_MAX = 10;
const LONG_WORD_PIECE = 6;

/** CLIP's pre-tokenizer split (without the special tokens): contractions, letters, single digits, punctuation runs. */
const CLIP_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

export interface TokenCount {
  /** Tokens as A1111 counts them (each chunk closed by BREAK counts as a full 75). */
  tokens: number;
  /** The chunk capacity shown after the slash: 75, 150, ... */
  max: number;
  /** False when the count is the local heuristic rather than the server's tokenizer. */
  exact: boolean;
}

/** Removes what the text encoder never sees: extra-network tags and attention syntax. */
export function stripPromptSyntax(prompt: string): string {
  return (
    prompt
      // <lora:name:0.8>, <hypernet:...>, <lyco:...>: consumed by the extra-network parser.
      .replace(/<[^<>:]+:[^<>]*>/g, ' ')
      // (word:1.2) and [from:to:0.5]: the weight or step number is syntax, not text.
      .replace(/:\s*-?\d+(?:\.\d+)?\s*(?=[)\]])/g, '')
      // Unescaped brackets are syntax; escaped ones (\( \)) stay as literal punctuation.
      .replace(/(^|[^\\])[()[\]]+/g, '$1 ')
      .replace(/\\([()[\]])/g, '$1')
  );
}

/** Heuristic CLIP token count for plain text (no prompt syntax). */
export function estimateTextTokens(text: string): number {
  let count = 0;
  for (const match of text.toLowerCase().matchAll(CLIP_SPLIT)) {
    const piece = match[0];
    if (/^\p{L}+$/u.test(piece)) {
      count += piece.length <= SINGLE_TOKEN_WORD_MAX ? 1 : Math.ceil(piece.length / LONG_WORD_PIECE);
    } else {
      // Digits and contractions are one token; punctuation runs merge in pairs at best.
      count += /^[\p{N}']/u.test(piece) ? 1 : Math.ceil(piece.length / 2);
    }
  }
  return count;
}

/** Splits a prompt at top-level BREAK keywords (A1111: a standalone upper-case word). */
export function splitAtBreak(prompt: string): string[] {
  return prompt.split(/\s*\bBREAK\b\s*/);
}

/**
 * A1111's chunk arithmetic: every segment before a BREAK is closed into whole chunks (counting 75
 * each), the last segment counts its tokens; the capacity is the next multiple of 75.
 *
 * @example chunkedCount([3, 1]) // { tokens: 76, max: 150 }
 */
export function chunkedCount(segmentTokens: readonly number[]): { tokens: number; max: number } {
  let tokens = 0;
  segmentTokens.forEach((n, i) => {
    const isLast = i === segmentTokens.length - 1;
    if (isLast) {
      tokens += Math.floor(n / CHUNK_TOKENS) * CHUNK_TOKENS + (n % CHUNK_TOKENS);
    } else {
      tokens += Math.max(1, Math.ceil(n / CHUNK_TOKENS)) * CHUNK_TOKENS;
    }
  });
  return { tokens, max: Math.ceil(Math.max(tokens, 1) / CHUNK_TOKENS) * CHUNK_TOKENS };
}

/** The estimate shown when the server cannot tokenize. */
export function estimatePromptTokens(prompt: string): TokenCount {
  const segments = splitAtBreak(prompt).map((s) => estimateTextTokens(stripPromptSyntax(s)));
  return { ...chunkedCount(segments), exact: false };
}

/** An exact count from the server, put into the same chunk display. */
export function exactCount(tokens: number): TokenCount {
  return { tokens, max: Math.ceil(Math.max(tokens, 1) / CHUNK_TOKENS) * CHUNK_TOKENS, exact: true };
}

/** "12/75", or "≈12/75" for an estimate. */
export function formatTokenCount(c: TokenCount): string {
  return `${c.exact ? '' : '≈'}${c.tokens}/${c.max}`;
}
