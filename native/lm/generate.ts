// The decoding loop of transformers 4.30 `generate()` for batch 1, greedy (`greedy_search`) or
// sampling (`sample`), over a Gpt2Model with its KV cache: run the prompt once, then one token per
// step; scores = processors(ids, logits[-1]) (then warpers when sampling); next = argmax (first on
// ties) or a draw; stop after EOS or at `max_length` (prompt included; `max_new_tokens` wins).
//
// Sampling RNG (documented in docs/enhance-prompt.md): torch's draw cannot be reproduced outside
// torch, so Easel uses its own. Sequence k of a request uses MT19937 (the 32-bit Mersenne Twister,
// `init_genrand` seeding) seeded with (seed + k) mod 2³²; each step takes one 53-bit uniform u
// (genrand_res53: two outputs) and picks the first id, in order of decreasing probability, whose
// cumulative probability exceeds u. Same seed, same model, same settings → same text everywhere.
import { Mt19937 } from '../sampling/rng-torch-cpu.js';
import type { Gpt2Model, KvCache } from './gpt2-model.js';
import { LmError } from './lm-error.js';
import { argmax, buildProcessors, buildWarpers, finalDistribution, type LogitsProcessor } from './logits-processors.js';

export interface GenerationSettings {
  doSample: boolean;
  /** Total length cap, prompt included (transformers' `max_length`). */
  maxLength?: number;
  /** New-token cap; wins over `maxLength`. */
  maxNewTokens?: number;
  minLength?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  eosTokenId: number;
  /** Seeds the sampling RNG (ignored when greedy). */
  seed?: number;
}

export interface GenerationHooks {
  signal?: AbortSignal;
  /** After each new token, with every new id so far. */
  onToken?(newIds: readonly number[]): void;
}

export interface GenerationResult {
  newIds: number[];
  stoppedAtEos: boolean;
}

/** transformers' MAX_LENGTH default when nothing else sets it. */
const DEFAULT_MAX_LENGTH = 20;

/** One uniform double in [0, 1) with 53 random bits (genrand_res53). */
export function uniform53(mt: Mt19937): number {
  const a = mt.nextU32() >>> 5;
  const b = mt.nextU32() >>> 6;
  return (a * 67108864 + b) / 9007199254740992;
}

/** Draws an id from the processed scores (see the header for the rule). */
export function sampleId(scores: Float32Array, mt: Mt19937): number {
  const { ids, probs } = finalDistribution(scores);
  if (ids.length === 0) throw new LmError('lm_bad_params', 'every token was filtered out; nothing to sample');
  const total = probs.reduce((a, b) => a + b, 0);
  const u = uniform53(mt) * total;
  let cum = 0;
  for (let i = 0; i < ids.length; i++) {
    cum += probs[i];
    if (cum > u) return ids[i];
  }
  return ids[ids.length - 1];
}

/** How many new tokens a request may make, as transformers resolves `max_length` / `max_new_tokens`. */
export function newTokenBudget(inputLength: number, s: Pick<GenerationSettings, 'maxLength' | 'maxNewTokens'>): number {
  if (s.maxNewTokens !== undefined) return s.maxNewTokens;
  // generate() always makes at least one token, even when the prompt already reaches max_length.
  return Math.max(1, (s.maxLength ?? DEFAULT_MAX_LENGTH) - inputLength);
}

/**
 * Generates after `inputIds` (≥ 1 id). Stops early, with `lm_cancelled`, when `hooks.signal` aborts.
 * @throws LmError `lm_prompt_too_long` when the prompt does not fit the model's context
 */
export async function generateIds(model: Gpt2Model, inputIds: readonly number[], s: GenerationSettings, hooks: GenerationHooks = {}): Promise<GenerationResult> {
  const ctx = model.config.nPositions;
  if (inputIds.length === 0) throw new LmError('lm_bad_params', 'generation needs at least one input id');
  if (inputIds.length >= ctx) {
    throw new LmError('lm_prompt_too_long', `the prompt is ${inputIds.length} tokens; this model reads at most ${ctx - 1} before it has to write`);
  }
  const budget = Math.min(newTokenBudget(inputIds.length, s), ctx - inputIds.length);
  const processors: LogitsProcessor[] = buildProcessors(s);
  const warpers: LogitsProcessor[] = s.doSample ? buildWarpers(s) : [];
  const mt = s.doSample ? new Mt19937((s.seed ?? 0) >>> 0) : undefined;
  const vocab = model.config.vocabSize;
  const ids = [...inputIds];
  const newIds: number[] = [];
  const checkAbort = (): void => {
    if (hooks.signal?.aborted) throw new LmError('lm_cancelled', 'cancelled');
  };
  checkAbort();
  let step = await model.forward(inputIds, model.emptyCache());
  let cache: KvCache = step.cache;
  let last = step.logits.subarray(step.logits.length - vocab);
  while (newIds.length < budget) {
    checkAbort();
    const scores = Float32Array.from(last);
    for (const p of processors) p.apply(ids, scores);
    for (const w of warpers) w.apply(ids, scores);
    const next = mt ? sampleId(scores, mt) : argmax(scores);
    ids.push(next);
    newIds.push(next);
    hooks.onToken?.(newIds);
    if (next === s.eosTokenId) return { newIds, stoppedAtEos: true };
    if (newIds.length >= budget) break;
    step = await model.forward([next], cache);
    cache = step.cache;
    last = step.logits;
  }
  return { newIds, stoppedAtEos: false };
}
