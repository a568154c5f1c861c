// GPT-2's byte-level BPE tokenizer, as transformers 4.30's slow `GPT2Tokenizer` runs it: split out
// the literal `<|endoftext|>`, pre-tokenise with GPT-2's pattern (no normalisation, no prefix space),
// map each piece's UTF-8 bytes through byte-to-unicode, merge by rank, look up ids. Decoding reverses
// the byte map and decodes UTF-8 with U+FFFD replacement, then applies transformers' cleanup rules.
// Files: Hugging Face `vocab.json` + `merges.txt` (+ optional `added_tokens.json`).
//
//   const tok = await loadGpt2Tokenizer('models/prompt-expanders/MagicPrompt-Stable-Diffusion');
//   tok.encode('Hello world') // [15496, 995]
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToUnicode } from '../text/clip-tokenizer.js';
import { LmError } from './lm-error.js';
import { bpeMerge } from '../text/bpe-merge.js';

export const ENDOFTEXT = '<|endoftext|>';

// The `regex` module's `\s` on str patterns is Unicode White_Space: U+0085 is in, U+FEFF and
// U+001C..U+001F are out — neither JavaScript's `\s` nor Python's `str.isspace()`.
const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (tokenization_gpt2.py).
const PRETOKENIZE_RE = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`,
  'gu',
);
// transformers' clean_up_tokenization, in its order.
const CLEANUP: ReadonlyArray<readonly [string, string]> = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];
const MAX_CACHED_WORDS = 100_000;

const BYTE_ENCODER = bytesToUnicode();
const BYTE_DECODER = new Map(BYTE_ENCODER.map((ch, b) => [ch, b]));
const UTF8 = new TextEncoder();

export interface DecodeOptions {
  /** Drop special tokens (`<|endoftext|>`, added tokens). Default false. */
  skipSpecialTokens?: boolean;
  /** transformers' `clean_up_tokenization_spaces` (4.30 default: true). */
  cleanup?: boolean;
}

export interface Gpt2TokenizerFiles {
  vocab: Record<string, number>;
  /** Merge rules "a b" in rank order (header line removed). */
  merges: string[];
  /** `added_tokens.json`: extra special tokens beyond the vocabulary. */
  addedTokens?: Record<string, number>;
}

export class Gpt2Tokenizer {
  readonly eosId: number;
  readonly vocabSize: number;
  private readonly encoder = new Map<string, number>();
  private readonly decoder = new Map<number, string>();
  private readonly ranks = new Map<string, number>();
  private readonly special = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly splitRe: RegExp;
  private readonly cache = new Map<string, string[]>();

  constructor(files: Gpt2TokenizerFiles) {
    for (const key in files.vocab) {
      const id = files.vocab[key];
      if (!Number.isInteger(id) || id < 0) throw new LmError('lm_bad_tokenizer', `vocab.json maps ${JSON.stringify(key)} to ${JSON.stringify(id)}, expected an id`);
      this.encoder.set(key, id);
      this.decoder.set(id, key);
    }
    files.merges.forEach((m, i) => this.ranks.set(m, i));
    const eos = this.encoder.get(ENDOFTEXT);
    if (eos === undefined) throw new LmError('lm_bad_tokenizer', `vocab.json has no ${ENDOFTEXT}`);
    this.eosId = eos;
    this.special.set(ENDOFTEXT, eos);
    for (const [tok, id] of Object.entries(files.addedTokens ?? {})) {
      if (!Number.isInteger(id)) throw new LmError('lm_bad_tokenizer', `added_tokens.json maps ${JSON.stringify(tok)} to ${JSON.stringify(id)}`);
      this.special.set(tok, id);
      this.decoder.set(id, tok);
    }
    for (const id of this.special.values()) this.specialIds.add(id);
    this.vocabSize = Math.max(...this.decoder.keys()) + 1;
    // Longest first so that one added token that prefixes another cannot shadow it.
    const alternatives = [...this.special.keys()].sort((a, b) => b.length - a.length).map(escapeRe);
    this.splitRe = new RegExp(`(${alternatives.join('|')})`);
  }

  /** Byte-level BPE strings of a text (`Ġ` = a space byte). */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const piece of text.split(this.splitRe)) {
      if (piece === '') continue;
      if (this.special.has(piece)) {
        out.push(piece);
        continue;
      }
      for (const m of piece.matchAll(PRETOKENIZE_RE)) {
        const word = Array.from(UTF8.encode(m[0]), (b) => BYTE_ENCODER[b]).join('');
        out.push(...this.bpe(word));
      }
    }
    return out;
  }

  /** Ids of a text; GPT-2 adds no BOS/EOS. @example tok.encode('Hello world') // [15496, 995] */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.special.get(t) ?? this.encoder.get(t) ?? this.eosId);
  }

  /** Text of ids: invalid UTF-8 becomes U+FFFD, as Python's `errors="replace"`. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const bytes: number[] = [];
    let text = '';
    const flush = (): void => {
      if (bytes.length === 0) return;
      text += new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (const id of ids) {
      if (this.specialIds.has(id)) {
        if (opts.skipSpecialTokens) continue;
        flush();
        text += this.decoder.get(id) ?? '';
        continue;
      }
      const tok = this.decoder.get(id);
      if (tok === undefined) continue;
      for (const ch of tok) {
        const b = BYTE_DECODER.get(ch);
        if (b !== undefined) bytes.push(b);
      }
    }
    flush();
    return opts.cleanup === false ? text : cleanUpTokenization(text);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    const word = bpeMerge([...token], this.ranks);
    if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }
}

/** transformers' `clean_up_tokenization` (plain string replacements, in order). */
export function cleanUpTokenization(text: string): string {
  let t = text;
  for (const [from, to] of CLEANUP) t = t.replaceAll(from, to);
  return t;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Parses the Hugging Face files. */
export function gpt2TokenizerFromFiles(vocabJson: string, mergesTxt: string, addedTokensJson?: string): Gpt2Tokenizer {
  const parse = (text: string, name: string): Record<string, number> => {
    try {
      const v = JSON.parse(text) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      return v as Record<string, number>;
    } catch (e) {
      throw new LmError('lm_bad_tokenizer', `${name} is not a JSON object: ${(e as Error).message}`);
    }
  };
  // GPT2Tokenizer: `merges_handle.read().split("\n")[1:-1]` — header first, the file ends with "\n".
  const lines = mergesTxt.split('\n');
  const start = lines[0]?.startsWith('#version') ? 1 : 0;
  const merges = lines.slice(start).map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  if (merges.length === 0 || merges.some((m) => m.split(' ').length !== 2)) {
    throw new LmError('lm_bad_tokenizer', 'merges.txt must hold one "a b" merge per line after its "#version" header');
  }
  return new Gpt2Tokenizer({
    vocab: parse(vocabJson, 'vocab.json'),
    merges,
    ...(addedTokensJson !== undefined ? { addedTokens: parse(addedTokensJson, 'added_tokens.json') } : {}),
  });
}

/**
 * Loads `vocab.json`, `merges.txt` and, when present, `added_tokens.json` from a folder.
 *
 * @throws LmError `lm_bad_tokenizer` when a file is missing or malformed
 */
export async function loadGpt2Tokenizer(dir: string): Promise<Gpt2Tokenizer> {
  const vocab = join(dir, 'vocab.json');
  const merges = join(dir, 'merges.txt');
  for (const p of [vocab, merges]) if (!existsSync(p)) throw new LmError('lm_bad_tokenizer', `tokenizer file missing: ${p}`);
  const added = join(dir, 'added_tokens.json');
  const [v, m, a] = await Promise.all([
    readFile(vocab, 'utf8'),
    readFile(merges, 'utf8'),
    existsSync(added) ? readFile(added, 'utf8') : Promise.resolve(undefined),
  ]);
  return gpt2TokenizerFromFiles(v, m, a);
}
