// transformers 4.30's logits processors and warpers (generation/logits_process.py), on one float32
// score row, in the order `generate()` builds them (`_get_logits_processor`, then `_get_logits_warper`):
//   processors: RepetitionPenalty → NoRepeatNGram → MinLength
//   warpers (sampling only): Temperature → TopK → TopP
// Arithmetic is float32 where torch's is: `s / T` is the float32 quotient of float32(s) and
// float32(T); top-p's cumulative sum is accumulated in float64 and rounded per prefix (torch CPU).

/** One stage: rewrites `scores` in place. `inputIds` is the whole sequence so far (prompt included). */
export interface LogitsProcessor {
  readonly name: string;
  apply(inputIds: readonly number[], scores: Float32Array): void;
}

const f32 = Math.fround;

/** `s < 0 ? s·p : s/p` for every distinct id already in the sequence (CTRL's penalty). */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  const p = f32(penalty);
  return {
    name: 'RepetitionPenaltyLogitsProcessor',
    apply(inputIds, scores) {
      for (const id of new Set(inputIds)) {
        const s = scores[id];
        scores[id] = s < 0 ? f32(s * p) : f32(s / p);
      }
    },
  };
}

/** Bans every token that would repeat an n-gram already in the sequence. */
export function noRepeatNgram(n: number): LogitsProcessor {
  return {
    name: 'NoRepeatNGramLogitsProcessor',
    apply(inputIds, scores) {
      for (const id of bannedNgramTokens(inputIds, n)) scores[id] = -Infinity;
    },
  };
}

/** The tokens that followed earlier occurrences of the (n−1)-gram ending `ids` (`_calc_banned_ngram_tokens`). */
export function bannedNgramTokens(ids: readonly number[], n: number): number[] {
  const len = ids.length;
  if (len + 1 < n) return [];
  const banned: number[] = [];
  const prefixStart = len + 1 - n;
  for (let start = 0; start + n <= len; start++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = ids[start + j] === ids[prefixStart + j];
    if (same) banned.push(ids[start + n - 1]);
  }
  return banned;
}

/** Forbids EOS while the sequence is shorter than `minLength` tokens (prompt included). */
export function minLength(min: number, eosId: number): LogitsProcessor {
  return {
    name: 'MinLengthLogitsProcessor',
    apply(inputIds, scores) {
      if (inputIds.length < min) scores[eosId] = -Infinity;
    },
  };
}

export function temperature(t: number): LogitsProcessor {
  const tf = f32(t);
  return {
    name: 'TemperatureLogitsWarper',
    apply(_ids, scores) {
      for (let i = 0; i < scores.length; i++) scores[i] = f32(scores[i] / tf);
    },
  };
}

/** Keeps the entries `>=` the k-th largest score (ties at the boundary stay), the rest → -inf. */
export function topK(k: number, minTokensToKeep = 1): LogitsProcessor {
  return {
    name: 'TopKLogitsWarper',
    apply(_ids, scores) {
      const kk = Math.min(Math.max(k, minTokensToKeep), scores.length);
      const kth = kthLargest(scores, kk);
      for (let i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = -Infinity;
    },
  };
}

/** Nucleus filtering: drops the least likely entries whose cumulative probability is `<= 1 − p`. */
export function topP(p: number, minTokensToKeep = 1): LogitsProcessor {
  const threshold = f32(1 - p);
  return {
    name: 'TopPLogitsWarper',
    apply(_ids, scores) {
      const finite: number[] = [];
      for (let i = 0; i < scores.length; i++) if (scores[i] !== -Infinity) finite.push(i);
      // ascending by score; torch's sort is stable for equal keys here (index order)
      finite.sort((a, b) => scores[a] - scores[b] || a - b);
      const probs = softmaxOf(finite.map((i) => scores[i]));
      let cum = 0;
      const keepFrom = finite.length - minTokensToKeep;
      for (let j = 0; j < finite.length; j++) {
        cum += probs[j];
        if (j >= keepFrom || f32(cum) > threshold) break;
        scores[finite[j]] = -Infinity;
      }
    },
  };
}

/** The k-th largest value (k ≥ 1) without sorting the whole row. */
export function kthLargest(scores: Float32Array, k: number): number {
  // A min-heap of the k largest seen so far.
  const heap = new Float64Array(k);
  let size = 0;
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && heap[l] < heap[m]) m = l;
      if (r < size && heap[r] < heap[m]) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (size < k) {
      let j = size++;
      heap[j] = v;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (heap[parent] <= heap[j]) break;
        [heap[parent], heap[j]] = [heap[j], heap[parent]];
        j = parent;
      }
    } else if (v > heap[0]) {
      heap[0] = v;
      down(0);
    }
  }
  return heap[0];
}

/** float32 softmax of a list of finite scores (float64 sums, rounded at the end as torch's result). */
export function softmaxOf(values: readonly number[]): number[] {
  let max = -Infinity;
  for (const v of values) max = Math.max(max, v);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => f32(e / sum));
}

/** The probability distribution after all stages: the ids with non-zero probability, most likely first. */
export function finalDistribution(scores: Float32Array): { ids: number[]; probs: number[] } {
  const ids: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] !== -Infinity) ids.push(i);
  ids.sort((a, b) => scores[b] - scores[a] || a - b);
  return { ids, probs: softmaxOf(ids.map((i) => scores[i])) };
}

/** Index of the largest score, the first on ties (torch.argmax). */
export function argmax(scores: Float32Array): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

export interface ProcessorSettings {
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  minLength?: number;
  eosTokenId: number;
}

export interface WarperSettings {
  temperature?: number;
  topK?: number;
  topP?: number;
}

/** `_get_logits_processor`: only the stages whose setting is active, in transformers' order. */
export function buildProcessors(s: ProcessorSettings): LogitsProcessor[] {
  const out: LogitsProcessor[] = [];
  if (s.repetitionPenalty !== undefined && s.repetitionPenalty !== 1) out.push(repetitionPenalty(s.repetitionPenalty));
  if (s.noRepeatNgramSize !== undefined && s.noRepeatNgramSize > 0) out.push(noRepeatNgram(s.noRepeatNgramSize));
  if (s.minLength !== undefined && s.minLength > 0) out.push(minLength(s.minLength, s.eosTokenId));
  return out;
}

/** `_get_logits_warper` (sampling only). */
export function buildWarpers(s: WarperSettings): LogitsProcessor[] {
  const out: LogitsProcessor[] = [];
  if (s.temperature !== undefined && s.temperature !== 1) out.push(temperature(s.temperature));
  if (s.topK !== undefined && s.topK !== 0) out.push(topK(s.topK));
  if (s.topP !== undefined && s.topP < 1) out.push(topP(s.topP));
  return out;
}
