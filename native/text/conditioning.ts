// Conditioning tensors as AUTOMATIC1111 v1.10.1 builds them for SD1 (`sd_hijack_clip.py: forward /
// process_tokens`, `sd_emphasis.py`, `prompt_parser.py: get_learned_conditioning`): prompts → chunks,
// each chunk index encoded for the whole batch at once, emphasis applied per chunk batch, chunks
// concatenated along the token axis. The text encoder itself is injected (`encodeChunk`; the ONNX
// runner lives in native/runtime), so this file is pure arithmetic plus plumbing.

import {
  CHUNK_LENGTH,
  emptyChunk,
  tokenizeLine,
  type EmbeddingLookup,
  type EmphasisMode,
  type PromptChunk,
  type PromptTokenizer,
  type TokenizedLine,
} from './chunking.js';
import { TextError } from './errors.js';
import { getLearnedConditioningPromptSchedules, getMulticondPromptList, type ScheduleOptions } from './prompt-schedule.js';

/** Ids per chunk: BOS + 75 + EOS. */
export const CHUNK_IDS = CHUNK_LENGTH + 2;

/** What an encoder with a pooled output (SDXL's OpenCLIP) returns for one chunk batch. */
export interface EncodedChunk {
  /** [B, 77, C] */
  hidden: Float32Array;
  /** [B, P]: the pooled embedding of each row. */
  pooled: Float32Array;
}

/** Encodes one chunk batch: ids [B, 77] → hidden states [B, 77, C] (already clip-skipped), with or without a pooled output. */
export type EncodeChunk = (ids: Int32Array, batch: number, opts: { clipSkip: number }) => Promise<Float32Array | EncodedChunk>;

export interface ConditioningDeps {
  tokenizer: PromptTokenizer;
  encodeChunk: EncodeChunk;
  /** 1 = last layer (default), 2 = A1111 "Clip skip 2". */
  clipSkip?: number;
  emphasis?: EmphasisMode;
  commaPaddingBacktrack?: number;
  /** Textual-inversion embeddings the prompts may name (their ids must exist in the encoder's token table). */
  embeddings?: EmbeddingLookup;
}

/** One prompt's conditioning, [1, tokens, channels] with tokens = 77 · chunks. */
export interface Conditioning {
  data: Float32Array;
  tokens: number;
  channels: number;
  /** A1111's token count of the prompt (for the UI counter and infotext checks). */
  tokenCount: number;
  /** The first chunk's pooled embedding [1, P], from encoders that have one (SDXL OpenCLIP). */
  pooled?: Float32Array;
  /** SDXL: the ADM `vector` [1, adm] the UNet takes beside the cross-attention context. */
  vector?: Float32Array;
}

export interface EmphasisDims {
  batch: number;
  tokens: number;
  channels: number;
}

// torch's float32 mean; accumulated in float64 (torch sums pairwise in float32, which is closer to
// this than to a naive float32 loop) and rounded to float32 once.
function meanF32(z: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += z[i];
  return Math.fround(sum / z.length);
}

function checkDims(z: Float32Array, multipliers: ArrayLike<number>, d: EmphasisDims): void {
  if (z.length !== d.batch * d.tokens * d.channels || multipliers.length !== d.batch * d.tokens) {
    throw new TextError(
      'bad_conditioning_shape',
      `emphasis expects z of ${d.batch}·${d.tokens}·${d.channels} and multipliers of ${d.batch}·${d.tokens} values, ` +
        `got ${z.length} and ${multipliers.length}`,
    );
  }
}

function multiply(z: Float32Array, multipliers: ArrayLike<number>, d: EmphasisDims): Float32Array {
  const out = new Float32Array(z.length); // [B, T, C]
  for (let bt = 0; bt < d.batch * d.tokens; bt++) {
    const m = Math.fround(multipliers[bt]); // torch.asarray(python floats) is a float32 tensor
    const base = bt * d.channels;
    for (let c = 0; c < d.channels; c++) out[base + c] = z[base + c] * m;
  }
  return out;
}

/**
 * A1111's "Original" emphasis on one chunk batch: `z·m`, then rescaled so the mean over ALL elements
 * of the batch is what it was before (`z * (mean0 / z.mean())`), in float32 like torch.
 */
export function applyOriginalEmphasis(z: Float32Array, multipliers: ArrayLike<number>, dims: EmphasisDims): Float32Array {
  checkDims(z, multipliers, dims);
  const mean0 = meanF32(z);
  const out = multiply(z, multipliers, dims); // [B, 77, C]
  const ratio = Math.fround(mean0 / meanF32(out));
  for (let i = 0; i < out.length; i++) out[i] = out[i] * ratio;
  return out;
}

/** Any of A1111's emphasis modes ("No norm": multiply only; "Ignore"/"None": unchanged). */
export function applyEmphasis(mode: EmphasisMode, z: Float32Array, multipliers: ArrayLike<number>, dims: EmphasisDims): Float32Array {
  checkDims(z, multipliers, dims);
  if (mode === 'Original') return applyOriginalEmphasis(z, multipliers, dims);
  if (mode === 'No norm') return multiply(z, multipliers, dims);
  return z;
}

/**
 * Encodes prompts as one batch, like A1111's `FrozenCLIPEmbedderWithCustomWords.forward(texts)`:
 * shorter prompts are filled with empty chunks so every result has the same token length, and the
 * emphasis mean is taken over the whole batch of each chunk index.
 */
export async function encodePrompts(prompts: readonly string[], deps: ConditioningDeps): Promise<Conditioning[]> {
  if (prompts.length === 0) return [];
  const clipSkip = deps.clipSkip ?? 1;
  const emphasis = deps.emphasis ?? 'Original';
  const cache = new Map<string, TokenizedLine>();
  const lines = prompts.map((p) => {
    let line = cache.get(p);
    if (line === undefined) {
      line = tokenizeLine(p, deps.tokenizer, { emphasis, commaPaddingBacktrack: deps.commaPaddingBacktrack, embeddings: deps.embeddings });
      cache.set(p, line);
    }
    return line;
  });

  const batch = prompts.length;
  const chunkCount = Math.max(...lines.map((l) => l.chunks.length));
  const empty = emptyChunk(deps.tokenizer);
  const perChunk: Float32Array[] = [];
  let channels = 0;
  let pooled: Float32Array | undefined;
  for (let i = 0; i < chunkCount; i++) {
    const chunks: PromptChunk[] = lines.map((l) => l.chunks[i] ?? empty);
    const ids = Int32Array.from(chunks.flatMap((c) => c.tokens)); // [B, 77]
    const multipliers = chunks.flatMap((c) => c.multipliers); // [B, 77]
    const encoded = await deps.encodeChunk(ids, batch, { clipSkip });
    const z = encoded instanceof Float32Array ? encoded : encoded.hidden; // [B, 77, C]
    // A1111 (sd_hijack_clip forward): the pooled output is the first chunk's; emphasis leaves it alone.
    if (i === 0 && !(encoded instanceof Float32Array)) pooled = encoded.pooled;
    channels = z.length / (batch * CHUNK_IDS);
    if (!Number.isInteger(channels) || channels <= 0) {
      throw new TextError('bad_conditioning_shape', `text encoder returned ${z.length} values for ${batch}·${CHUNK_IDS} tokens`);
    }
    perChunk.push(applyEmphasis(emphasis, z, multipliers, { batch, tokens: CHUNK_IDS, channels }));
  }

  const tokens = chunkCount * CHUNK_IDS;
  const rowLength = CHUNK_IDS * channels;
  const pooledWidth = pooled ? pooled.length / batch : 0;
  return lines.map((line, b) => {
    const data = new Float32Array(tokens * channels); // [1, 77·k, C]
    perChunk.forEach((z, i) => data.set(z.subarray(b * rowLength, (b + 1) * rowLength), i * rowLength));
    const cond: Conditioning = { data, tokens, channels, tokenCount: line.tokenCount };
    if (pooled) cond.pooled = pooled.slice(b * pooledWidth, (b + 1) * pooledWidth);
    return cond;
  });
}

/**
 * One prompt's conditioning [1, 77·k, C], as A1111 encodes a prompt or a negative prompt alone.
 *
 * @example const c = await buildConditioning('a (red:1.3) car', { tokenizer, encodeChunk: (ids, b, o) => te.encode(ids, b, o) })
 */
export async function buildConditioning(prompt: string, deps: ConditioningDeps): Promise<Conditioning> {
  const [cond] = await encodePrompts([prompt], deps);
  return cond;
}

// ---- schedules (prompt editing) and AND --------------------------------------------------------------

export interface ScheduledConditioning {
  endAtStep: number;
  cond: Conditioning;
}

/**
 * `get_learned_conditioning`: per prompt, its schedule with one conditioning per entry. The texts of
 * one prompt's schedule are encoded together as one batch (so they share a token length).
 */
export async function getLearnedConditioning(
  prompts: readonly string[],
  steps: number,
  deps: ConditioningDeps,
  opts: ScheduleOptions = {},
): Promise<ScheduledConditioning[][]> {
  return getLearnedConditioningWith(prompts, steps, (texts) => encodePrompts(texts, deps), opts);
}

/** Encodes a batch of texts as one model call (a family's `get_learned_conditioning`). */
export type PromptBatchEncoder = (texts: readonly string[]) => Promise<Conditioning[]>;

/** getLearnedConditioning over any family's encoder (SDXL's returns crossattn and vector). */
export async function getLearnedConditioningWith(
  prompts: readonly string[],
  steps: number,
  encode: PromptBatchEncoder,
  opts: ScheduleOptions = {},
): Promise<ScheduledConditioning[][]> {
  const schedules = getLearnedConditioningPromptSchedules([...prompts], steps, opts);
  const cache = new Map<string, ScheduledConditioning[]>();
  const out: ScheduledConditioning[][] = [];
  for (let i = 0; i < prompts.length; i++) {
    let entry = cache.get(prompts[i]);
    if (entry === undefined) {
      const schedule = schedules[i];
      const conds = await encode(schedule.map(([, text]) => text));
      entry = schedule.map(([endAtStep], j) => ({ endAtStep, cond: conds[j] }));
      cache.set(prompts[i], entry);
    }
    out.push(entry);
  }
  return out;
}

export interface ComposablePart {
  weight: number;
  schedule: ScheduledConditioning[];
}

/** `get_multicond_learned_conditioning`: each prompt split on AND, each part scheduled and weighted. */
export async function getMulticondLearnedConditioning(
  prompts: readonly string[],
  steps: number,
  deps: ConditioningDeps,
  opts: ScheduleOptions = {},
): Promise<ComposablePart[][]> {
  return getMulticondLearnedConditioningWith(prompts, steps, (texts) => encodePrompts(texts, deps), opts);
}

/** getMulticondLearnedConditioning over any family's encoder. */
export async function getMulticondLearnedConditioningWith(
  prompts: readonly string[],
  steps: number,
  encode: PromptBatchEncoder,
  opts: ScheduleOptions = {},
): Promise<ComposablePart[][]> {
  const { indexes, flat } = getMulticondPromptList([...prompts]);
  const learned = await getLearnedConditioningWith(flat, steps, encode, opts);
  return indexes.map((parts) => parts.map(([index, weight]) => ({ weight, schedule: learned[index] })));
}

// ---- cond / uncond shapes for CFG ----------------------------------------------------------------

/** A1111 runs cond and uncond in one UNet batch only when their token lengths are equal. */
export function canBatchCondUncond(cond: Pick<Conditioning, 'tokens'>, uncond: Pick<Conditioning, 'tokens'>): boolean {
  return cond.tokens === uncond.tokens;
}

function withTokens(c: Conditioning, tokens: number, fill: (row: number) => Float32Array): Conditioning {
  const data = new Float32Array(tokens * c.channels);
  data.set(c.data.subarray(0, Math.min(c.tokens, tokens) * c.channels));
  for (let t = c.tokens; t < tokens; t++) data.set(fill(t), t * c.channels);
  return { ...c, data, tokens };
}

/**
 * A1111's "Pad prompt/negative prompt" (`pad_cond_uncond`, off by default): the shorter of the two
 * is extended with copies of the empty prompt's conditioning (`emptyCond`, 77 tokens), whole chunks.
 */
export function padCondUncond(cond: Conditioning, uncond: Conditioning, emptyCond: Conditioning): [Conditioning, Conditioning] {
  const pad = (c: Conditioning, tokens: number): Conditioning =>
    withTokens(c, tokens, (t) => {
      const row = (t - c.tokens) % emptyCond.tokens;
      return emptyCond.data.subarray(row * c.channels, (row + 1) * c.channels);
    });
  // Python's floor division of the token difference by the empty prompt's length.
  const repeats = Math.floor((cond.tokens - uncond.tokens) / emptyCond.tokens);
  if (repeats < 0) return [pad(cond, cond.tokens - repeats * emptyCond.tokens), uncond];
  if (repeats > 0) return [cond, pad(uncond, uncond.tokens + repeats * emptyCond.tokens)];
  return [cond, uncond];
}

/**
 * A1111's older "Pad prompt/negative prompt (v0)": a shorter uncond repeats its last vector, a longer
 * one is cut to the cond's length; cond is never changed.
 */
export function padCondUncondV0(cond: Conditioning, uncond: Conditioning): [Conditioning, Conditioning] {
  if (uncond.tokens === cond.tokens) return [cond, uncond];
  const last = uncond.data.subarray((uncond.tokens - 1) * uncond.channels, uncond.tokens * uncond.channels);
  return [cond, withTokens(uncond, cond.tokens, () => last)];
}

/**
 * Stacks conditionings of different lengths into one [N, T, C] batch, repeating each shorter one's
 * last vector (A1111's `stack_conds`, used for AND parts and batches of prompts).
 */
export function stackConds(conds: readonly Conditioning[]): { data: Float32Array; batch: number; tokens: number; channels: number } {
  const tokens = Math.max(...conds.map((c) => c.tokens));
  const channels = conds[0].channels;
  const data = new Float32Array(conds.length * tokens * channels); // [N, T, C]
  conds.forEach((c, i) => {
    const last = c.data.subarray((c.tokens - 1) * channels, c.tokens * channels);
    data.set(withTokens(c, tokens, () => last).data, i * tokens * channels);
  });
  return { data, batch: conds.length, tokens, channels };
}
