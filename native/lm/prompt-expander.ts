// Prompt expansion end to end, as dynamicprompts' MagicPromptGenerator does it through transformers'
// text-generation pipeline: encode (an empty prompt starts from <|endoftext|>), generate, build the
// pipeline's FULL_TEXT (`prompt + decode(all)[len(decode(prompt)):]`), then `clean_up_magic_prompt`;
// with a blocklist, sequences that match are generated again (up to `maxAttempts`, as dynamicprompts).
//
//   const ex = await PromptExpander.load('models/prompt-expanders/MagicPrompt-Stable-Diffusion', { runtime });
//   const { prompts } = await ex.expand({ prompt: 'a cat in the rain', n: 3, seed: 42 });
import type { Precision } from '../graph/builder.js';
import type { EngineRuntime } from '../runtime/ort-backend.js';
import { generateIds, type GenerationSettings } from './generate.js';
import { Gpt2Model } from './gpt2-model.js';
import { loadGpt2Tokenizer, type Gpt2Tokenizer } from './gpt2-tokenizer.js';
import { LmError } from './lm-error.js';
import { cleanUpMagicPrompt, compileBlocklist } from './magicprompt.js';

/** dynamicprompts' MagicPromptGenerator defaults (max_prompt_length, temperature) and GenerationConfig's top_k. */
export const MAGICPROMPT_DEFAULTS = { maxLength: 100, temperature: 0.7, topK: 50, topP: 1 } as const;
/** dynamicprompts' `max_attempts` for blocked prompts. */
export const BLOCKLIST_MAX_ATTEMPTS = 20;
export const MAX_SEQUENCES = 8;

export interface ExpandRequest {
  prompt: string;
  /** Sequences to return (`num_return_sequences`); sampling only beyond 1. Default 1. */
  n?: number;
  /** Seed of sequence 0; sequence k uses seed + k. Default 0. */
  seed?: number;
  /** Argmax decoding instead of sampling. */
  greedy?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  maxNewTokens?: number;
  /** Prompt included; default 100 (dynamicprompts). Ignored when maxNewTokens is set. */
  maxLength?: number;
  minLength?: number;
  /** Case-insensitive regex: matching results are generated again (dynamicprompts' blocklist_regex). */
  blocklist?: string;
}

export interface ExpandHooks {
  signal?: AbortSignal;
  /** Streaming: the pipeline text of sequence `index` so far (prompt + continuation). */
  onPartial?(index: number, text: string): void;
}

export interface SequenceResult {
  promptIds: number[];
  inputIds: number[];
  newIds: number[];
  /** decode(newIds), cleanup on, special tokens kept. */
  newText: string;
  /** The pipeline's FULL_TEXT. */
  generatedText: string;
  /** After clean_up_magic_prompt. */
  prompt: string;
  stoppedAtEos: boolean;
  seed: number | null;
}

export interface ExpandResult {
  prompts: string[];
  sequences: SequenceResult[];
  settings: GenerationSettings;
}

export interface ExpanderLoadOptions {
  runtime: EngineRuntime;
  /** Tokenizer folder; default the model folder. */
  tokenizerDir?: string;
  precision?: Precision;
}

function checkRange(name: string, v: number | undefined, ok: (x: number) => boolean, expected: string): void {
  if (v !== undefined && (!Number.isFinite(v) || !ok(v))) throw new LmError('lm_bad_params', `${name} must be ${expected}, got ${v}`);
}

export class PromptExpander {
  private constructor(
    readonly model: Gpt2Model,
    readonly tokenizer: Gpt2Tokenizer,
  ) {}

  static async load(modelDir: string, opts: ExpanderLoadOptions): Promise<PromptExpander> {
    const tokenizer = await loadGpt2Tokenizer(opts.tokenizerDir ?? modelDir);
    const model = await Gpt2Model.load(modelDir, { runtime: opts.runtime, ...(opts.precision ? { precision: opts.precision } : {}) });
    if (tokenizer.vocabSize > model.config.vocabSize) {
      await model.dispose();
      throw new LmError('lm_bad_tokenizer', `the tokenizer has ${tokenizer.vocabSize} ids, the model only ${model.config.vocabSize}`);
    }
    return new PromptExpander(model, tokenizer);
  }

  /** The generation settings a request resolves to: request > model config > MagicPrompt defaults. */
  resolveSettings(req: ExpandRequest): GenerationSettings {
    checkRange('n', req.n, (x) => Number.isInteger(x) && x >= 1 && x <= MAX_SEQUENCES, `an integer from 1 to ${MAX_SEQUENCES}`);
    checkRange('temperature', req.temperature, (x) => x > 0, 'a positive number');
    checkRange('top_k', req.topK, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');
    checkRange('top_p', req.topP, (x) => x > 0 && x <= 1, 'in (0, 1]');
    checkRange('repetition_penalty', req.repetitionPenalty, (x) => x > 0, 'a positive number');
    checkRange('no_repeat_ngram_size', req.noRepeatNgramSize, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');
    checkRange('max_new_tokens', req.maxNewTokens, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
    checkRange('max_length', req.maxLength, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
    checkRange('min_length', req.minLength, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');
    checkRange('seed', req.seed, (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff, 'an integer from 0 to 4294967295');
    const g = this.model.config.generation;
    const doSample = !req.greedy;
    if (!doSample && (req.n ?? 1) > 1) throw new LmError('lm_bad_params', 'n > 1 needs sampling: greedy decoding gives the same text every time');
    const pick = <T>(...vs: Array<T | undefined>): T | undefined => vs.find((v) => v !== undefined);
    const s: GenerationSettings = {
      doSample,
      eosTokenId: this.model.config.eosTokenId,
      maxLength: pick(req.maxLength, MAGICPROMPT_DEFAULTS.maxLength),
      temperature: pick(req.temperature, MAGICPROMPT_DEFAULTS.temperature),
      topK: pick(req.topK, g.topK, MAGICPROMPT_DEFAULTS.topK),
      topP: pick(req.topP, g.topP, MAGICPROMPT_DEFAULTS.topP),
      repetitionPenalty: pick(req.repetitionPenalty, g.repetitionPenalty),
      noRepeatNgramSize: pick(req.noRepeatNgramSize, g.noRepeatNgramSize),
      minLength: req.minLength,
      seed: req.seed ?? 0,
    };
    if (req.maxNewTokens !== undefined) s.maxNewTokens = req.maxNewTokens;
    return s;
  }

  /** Expands one prompt into `n` prompts; `hooks.onPartial` streams each sequence's text as it grows. */
  async expand(req: ExpandRequest, hooks: ExpandHooks = {}): Promise<ExpandResult> {
    const settings = this.resolveSettings(req);
    const block = req.blocklist ? compileBlocklist(req.blocklist) : undefined;
    const n = req.n ?? 1;
    const sequences: SequenceResult[] = [];
    for (let k = 0; k < n; k++) {
      let attempt = 0;
      for (;;) {
        // Attempt a of sequence k draws from its own seed, so a blocked result is not redrawn identically.
        const seed = settings.doSample ? ((settings.seed ?? 0) + k + attempt * MAX_SEQUENCES) >>> 0 : null;
        const r = await this.expandOne(req.prompt, { ...settings, ...(seed === null ? {} : { seed }) }, k, hooks);
        if (!block || !block.test(r.prompt) || ++attempt >= BLOCKLIST_MAX_ATTEMPTS || !settings.doSample) {
          sequences.push(r);
          break;
        }
      }
    }
    return { prompts: sequences.map((s) => s.prompt), sequences, settings };
  }

  private async expandOne(prompt: string, s: GenerationSettings, index: number, hooks: ExpandHooks): Promise<SequenceResult> {
    const promptIds = this.tokenizer.encode(prompt);
    // The text-generation pipeline feeds <|endoftext|> for an empty prompt.
    const inputIds = promptIds.length > 0 ? promptIds : [this.tokenizer.eosId];
    const promptText = [...this.tokenizer.decode(inputIds, { skipSpecialTokens: true })].length;
    const fullText = (newIds: readonly number[]): string =>
      prompt + [...this.tokenizer.decode([...inputIds, ...newIds], { skipSpecialTokens: true })].slice(promptText).join('');
    const { newIds, stoppedAtEos } = await generateIds(this.model, inputIds, s, {
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onToken: hooks.onPartial ? (ids) => hooks.onPartial!(index, fullText(ids)) : undefined,
    });
    const generatedText = fullText(newIds);
    return {
      promptIds,
      inputIds,
      newIds,
      newText: this.tokenizer.decode(newIds),
      generatedText,
      prompt: cleanUpMagicPrompt(prompt, generatedText),
      stoppedAtEos,
      seed: s.doSample ? (s.seed ?? 0) : null,
    };
  }

  dispose(): Promise<void> {
    return this.model.dispose();
  }
}
