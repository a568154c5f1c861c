// A GPT-2 family model's `config.json` (transformers GPT2Config) and optional `generation_config.json`,
// read into the sizes the graph needs and the generation defaults `generate()` would use. Sizes are
// always read from the folder, never assumed (MagicPrompt is GPT-2 small; distilgpt2 has 6 layers).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LmError } from './lm-error.js';

/** Activations GPT2MLP can have (`ACT2FN` names); the tanh forms are the same function. */
export const GPT2_ACTIVATIONS = ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu', 'relu', 'silu', 'swish'] as const;
export type Gpt2Activation = (typeof GPT2_ACTIVATIONS)[number];

export interface Gpt2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** MLP width (`n_inner`, default 4·n_embd). */
  nInner: number;
  activation: Gpt2Activation;
  layerNormEpsilon: number;
  scaleAttnWeights: boolean;
  scaleAttnByInverseLayerIdx: boolean;
  /** false only when the config says `tie_word_embeddings: false` (then `lm_head.weight` is used). */
  tieWordEmbeddings: boolean;
  bosTokenId: number;
  eosTokenId: number;
  /** Generation defaults the text-generation pipeline applies (`task_specific_params["text-generation"]`) over generation_config.json. */
  generation: GenerationDefaults;
}

export interface GenerationDefaults {
  doSample?: boolean;
  maxLength?: number;
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  padTokenId?: number;
}

type Json = Record<string, unknown>;

function intField(cfg: Json, name: string, fallback?: number): number {
  const v = cfg[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new LmError('lm_bad_config', `config.json: ${name} must be a positive integer, got ${JSON.stringify(cfg[name])}`);
  }
  return v;
}

function optNum(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function defaultsFrom(j: Json): GenerationDefaults {
  const out: GenerationDefaults = {};
  if (typeof j.do_sample === 'boolean') out.doSample = j.do_sample;
  const pairs: Array<[keyof GenerationDefaults, string]> = [
    ['maxLength', 'max_length'],
    ['maxNewTokens', 'max_new_tokens'],
    ['temperature', 'temperature'],
    ['topK', 'top_k'],
    ['topP', 'top_p'],
    ['repetitionPenalty', 'repetition_penalty'],
    ['noRepeatNgramSize', 'no_repeat_ngram_size'],
    ['padTokenId', 'pad_token_id'],
  ];
  for (const [k, name] of pairs) {
    const v = optNum(j[name]);
    if (v !== undefined) (out as Record<string, number>)[k] = v;
  }
  return out;
}

/** Parses GPT2Config JSON (and generation_config.json when given). */
export function parseGpt2Config(configJson: Json, generationJson?: Json): Gpt2Config {
  const modelType = configJson.model_type;
  if (modelType !== undefined && modelType !== 'gpt2') {
    throw new LmError('lm_bad_config', `config.json: model_type "${String(modelType)}" is not a GPT-2 model (only gpt2 loads)`);
  }
  const nEmbd = intField(configJson, 'n_embd');
  const nHead = intField(configJson, 'n_head');
  if (nEmbd % nHead !== 0) throw new LmError('lm_bad_config', `config.json: n_embd ${nEmbd} is not a multiple of n_head ${nHead}`);
  const act = configJson.activation_function ?? 'gelu_new';
  if (!(GPT2_ACTIVATIONS as readonly unknown[]).includes(act)) {
    throw new LmError('lm_bad_config', `config.json: activation_function "${String(act)}" is not supported (expected one of ${GPT2_ACTIVATIONS.join(', ')})`);
  }
  const eps = optNum(configJson.layer_norm_epsilon) ?? 1e-5;
  const eos = optNum(configJson.eos_token_id) ?? 50256;
  const nInnerRaw = configJson.n_inner;
  const task = (configJson.task_specific_params as Json | undefined)?.['text-generation'];
  return {
    vocabSize: intField(configJson, 'vocab_size'),
    nPositions: intField(configJson, 'n_positions', optNum(configJson.n_ctx)),
    nEmbd,
    nLayer: intField(configJson, 'n_layer'),
    nHead,
    nInner: nInnerRaw === null || nInnerRaw === undefined ? 4 * nEmbd : intField(configJson, 'n_inner'),
    activation: act as Gpt2Activation,
    layerNormEpsilon: eps,
    scaleAttnWeights: configJson.scale_attn_weights !== false,
    scaleAttnByInverseLayerIdx: configJson.scale_attn_by_inverse_layer_idx === true,
    tieWordEmbeddings: configJson.tie_word_embeddings !== false,
    bosTokenId: optNum(configJson.bos_token_id) ?? eos,
    eosTokenId: eos,
    // The pipeline copies task_specific_params over the model's generation config (pipelines/base.py).
    generation: { ...defaultsFrom(generationJson ?? configJson), ...(task && typeof task === 'object' ? defaultsFrom(task as Json) : {}) },
  };
}

async function readJson(path: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LmError('lm_model_not_found', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Json;
  } catch (err) {
    throw new LmError('lm_bad_config', `${path} is not a JSON object: ${(err as Error).message}`);
  }
}

/** Reads `config.json` (+ `generation_config.json`) of a Hugging Face GPT-2 folder. */
export async function loadGpt2Config(dir: string): Promise<Gpt2Config> {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new LmError('lm_model_not_found', `${dir} has no config.json (expected a Hugging Face GPT-2 folder)`);
  const genPath = join(dir, 'generation_config.json');
  return parseGpt2Config(await readJson(cfgPath), existsSync(genPath) ? await readJson(genPath) : undefined);
}
