// Token counts for the prompt boxes. The exact count needs CLIP's vocabulary, which lives on the
// server: this asks `POST /api/tokenize` ({ prompt } → { tokens }) and, when the server has no
// such route (404/501) or cannot be reached, answers the labelled local estimate instead.
import { estimatePromptTokens, exactCount, type TokenCount } from '../logic/token-count.js';
import { EaselClientError } from './errors.js';
import { restJson, type RestTarget } from './http.js';

export class TokenCounter {
  /** Set once the server said it has no tokenizer route, so we stop asking. */
  private unsupported = false;
  private readonly cache = new Map<string, TokenCount>();

  constructor(private readonly rest: () => RestTarget, private readonly online: () => boolean) {}

  /** The estimate at once (for typing), without a round trip. */
  estimate(prompt: string): TokenCount {
    return estimatePromptTokens(prompt);
  }

  async count(prompt: string): Promise<TokenCount> {
    const hit = this.cache.get(prompt);
    if (hit) return hit;
    if (this.unsupported || !this.online()) return estimatePromptTokens(prompt);
    try {
      const res = await restJson<{ tokens?: unknown; count?: unknown }>(this.rest(), 'api/tokenize', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt }),
      });
      const n = typeof res.tokens === 'number' ? res.tokens : typeof res.count === 'number' ? res.count : null;
      if (n === null) return estimatePromptTokens(prompt);
      const c = exactCount(n);
      if (this.cache.size > 200) this.cache.clear();
      this.cache.set(prompt, c);
      return c;
    } catch (err) {
      if (err instanceof EaselClientError && (err.code === 'not_found' || err.code === 'not_implemented' || err.code === 'http_error')) {
        this.unsupported = true;
      }
      return estimatePromptTokens(prompt);
    }
  }
}
