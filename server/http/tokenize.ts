// POST /api/tokenize: the A1111 token count of a prompt ({ prompt } → { tokens, chunks }), so the
// PWA's "N/75" counters are exact without shipping CLIP's 1.6 MB vocabulary to the browser.
// `<lora:…>` and other extra-network tags are removed first, as A1111 counts them, and a
// textual-inversion name in $MODELS_DIR/embeddings counts as its vectors, as it does in the engine.
import { join } from 'node:path';
import express, { type Router } from 'express';
import { z } from 'zod';
import { tokenizeLine } from '../../native/text/chunking.js';
import { findTokenizerDir, loadClipTokenizer, type ClipTokenizer } from '../../native/text/clip-tokenizer.js';
import { extractLoraTags } from '../../native/text/lora-tags.js';
import { EmbeddingTable, scanEmbeddings } from '../../native/embeddings/embedding-table.js';
import { EaselError } from '../protocol/errors.js';

/** SD1's CLIP-L: the token table's rows and the width embeddings must have to be usable. */
const SD1_VOCAB_ROWS = 49408;
const SD1_TEXT_WIDTH = 768;

export interface TokenizeDeps {
  modelsDir: string;
  /** Explicit tokenizer folder (`TOKENIZER_DIR`). */
  tokenizerDir?: string;
}

export const TokenizeSchema = z.object({ prompt: z.string().max(10_000, 'must be at most 10,000 characters') }).strict();

export function createTokenizeRoutes(deps: TokenizeDeps): Router {
  let loading: Promise<ClipTokenizer> | undefined;
  const tokenizer = (): Promise<ClipTokenizer> => {
    loading ??= (async () => {
      let dir: string;
      try {
        dir = findTokenizerDir({ explicitDir: deps.tokenizerDir, modelsDir: deps.modelsDir });
      } catch (err) {
        throw new EaselError('not_implemented', `token counting needs the CLIP tokenizer: ${err instanceof Error ? err.message : String(err)}`);
      }
      return loadClipTokenizer(dir);
    })();
    // A missing tokenizer may be installed later: do not cache the failure.
    loading.catch(() => (loading = undefined));
    return loading;
  };

  const router = express.Router();
  router.post('/tokenize', (req, res, next) => {
    const parsed = TokenizeSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      next(new EaselError('invalid_params', `${issue.path.join('.') || 'body'}: ${issue.message}`, { field: issue.path.join('.') || undefined }));
      return;
    }
    (async () => {
      const tok = await tokenizer();
      // Parsed embedding files are cached by size and mtime, so a scan per request only lists the folder.
      const scan = await scanEmbeddings(join(deps.modelsDir, 'embeddings'), SD1_TEXT_WIDTH);
      const embeddings = scan.loaded.length > 0 ? new EmbeddingTable(scan.loaded, tok, SD1_VOCAB_ROWS).lookup(new Map()) : undefined;
      const line = tokenizeLine(extractLoraTags(parsed.data.prompt).prompt, tok, { embeddings });
      res.json({ tokens: line.tokenCount, chunks: line.chunks.length });
    })().catch(next);
  });
  return router;
}
