// The CLIP tokenizer a single-file SD1 checkpoint needs (its vocabulary is not inside the file):
// fetched once from hf:openai/clip-vit-large-patch14 into $MODELS_DIR/tokenizers/clip-vit-large-patch14/,
// the folder native/text/clip-tokenizer.ts looks in. Files land under a temp name and are
// renamed when complete, so a half-written vocabulary is never picked up.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EaselError } from '../../protocol/errors.js';
import type { AddressPolicy } from './address-guard.js';
import { hfResolveUrl } from './sources.js';
import { transfer } from './transfer.js';

export const CLIP_TOKENIZER_REPO = 'openai/clip-vit-large-patch14';
/** What the tokenizer needs (vocab + merges) and the small config files transformers reads beside them. */
export const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;
const REQUIRED = ['vocab.json', 'merges.txt'];
/** A tokenizer file is small; a larger answer is not one. */
const MAX_TOKENIZER_FILE_BYTES = 16 * 1024 * 1024;

export interface TokenizerFetchOptions {
  modelsDir: string;
  hfEndpoint: string;
  hfToken?: string | undefined;
  policy: AddressPolicy;
  signal?: AbortSignal | undefined;
  retryDelaysMs?: readonly number[] | undefined;
  /** `owner/repo`, default openai/clip-vit-large-patch14. */
  repo?: string;
  revision?: string;
}

/** `$MODELS_DIR/tokenizers/<repo name>` */
export function tokenizerDir(modelsDir: string, repo = CLIP_TOKENIZER_REPO): string {
  return join(modelsDir, 'tokenizers', repo.split('/').pop()!);
}

export function hasTokenizer(dir: string): boolean {
  return REQUIRED.every((f) => existsSync(join(dir, f)));
}

/**
 * Fetches the tokenizer files unless they are already there; resolves with the folder and
 * whether anything was fetched. Optional files that the repo lacks are skipped.
 *
 * @example await ensureTokenizer({ modelsDir, hfEndpoint: 'https://huggingface.co', policy })
 */
export async function ensureTokenizer(opts: TokenizerFetchOptions): Promise<{ dir: string; fetched: string[] }> {
  const repo = opts.repo ?? CLIP_TOKENIZER_REPO;
  const dir = tokenizerDir(opts.modelsDir, repo);
  if (hasTokenizer(dir)) return { dir, fetched: [] };
  await mkdir(dir, { recursive: true });
  const fetched: string[] = [];
  const ref = { repo, path: '', revision: opts.revision ?? 'main' };
  for (const file of TOKENIZER_FILES) {
    const final = join(dir, file);
    if (existsSync(final)) continue;
    const part = join(dir, `.${file}.part`);
    try {
      await transfer({
        url: hfResolveUrl(opts.hfEndpoint, ref, file),
        headers: opts.hfToken ? { authorization: `Bearer ${opts.hfToken}` } : {},
        partPath: part,
        policy: opts.policy,
        signal: opts.signal,
        maxBytes: MAX_TOKENIZER_FILE_BYTES,
        ...(opts.retryDelaysMs ? { retryDelaysMs: opts.retryDelaysMs } : {}),
      });
    } catch (err) {
      await rm(part, { force: true });
      if (!REQUIRED.includes(file) && err instanceof EaselError && err.code === 'not_found') continue;
      throw err;
    }
    await rename(part, final);
    fetched.push(file);
  }
  return { dir, fetched };
}
