// The public surface of the text layer: CLIP tokenizer, A1111 prompt syntax, conditioning.
// The conditioning types fit native/sampling/cfg.ts as they are (Conditioning ⊇ CondTensor,
// ScheduledConditioning ⊇ ScheduledCond, ComposablePart ⊇ WeightedSchedule).
export { TextError, type TextErrorCode } from './errors.js';
export {
  BOS_TOKEN,
  EOS_TOKEN,
  ClipTokenizer,
  clipTokenizerFromFiles,
  findTokenizerDir,
  loadClipTokenizer,
  SHARED_TOKENIZER_SUBDIR,
  type TokenizerSearch,
} from './clip-tokenizer.js';
export { fixText, whitespaceClean } from './text-clean.js';
export { isBreakRun, parsePromptAttention, type AttentionRun } from './prompt-attention.js';
export {
  getLearnedConditioningPromptSchedules,
  getMulticondPromptList,
  getPromptSchedule,
  scheduleIndexAt,
  type MulticondPromptList,
  type ScheduleEntry,
  type ScheduleOptions,
} from './prompt-schedule.js';
export { extractLoraTags, type ExtraNetworkTag, type ExtractedTags, type LoraRequest } from './lora-tags.js';
export {
  CHUNK_LENGTH,
  DEFAULT_COMMA_BACKTRACK,
  emptyChunk,
  targetPromptTokenCount,
  tokenizeLine,
  type ChunkingOptions,
  type EmphasisMode,
  type PromptChunk,
  type PromptTokenizer,
  type TokenizedLine,
} from './chunking.js';
export {
  applyEmphasis,
  applyOriginalEmphasis,
  buildConditioning,
  canBatchCondUncond,
  CHUNK_IDS,
  encodePrompts,
  getLearnedConditioning,
  getMulticondLearnedConditioning,
  padCondUncond,
  padCondUncondV0,
  stackConds,
  type ComposablePart,
  type Conditioning,
  type ConditioningDeps,
  type EmphasisDims,
  type EncodeChunk,
  type ScheduledConditioning,
} from './conditioning.js';
