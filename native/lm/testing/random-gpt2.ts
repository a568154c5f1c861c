// A GPT-2 folder with random weights and a given size (default: GPT-2 small, 124 M parameters) for
// benchmarks and loader tests: config.json + model.safetensors in the Hugging Face layout
// (Conv1D weights [in, out], tied embeddings, no lm_head). The tokenizer files are not written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensorsStreamed, type TensorSpec } from '../../io/safetensors.js';

export interface RandomGpt2Size {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nPositions: number;
  vocabSize: number;
}

export const GPT2_SMALL: RandomGpt2Size = { nEmbd: 768, nLayer: 12, nHead: 12, nPositions: 1024, vocabSize: 50257 };

/** The safetensors specs of a GPT2LMHeadModel checkpoint of this size, in save_pretrained order. */
export function gpt2Specs(s: RandomGpt2Size): TensorSpec[] {
  const e = s.nEmbd;
  const t = (name: string, ...shape: number[]): TensorSpec => ({ name, dtype: 'F32', shape });
  const specs = [t('transformer.wte.weight', s.vocabSize, e), t('transformer.wpe.weight', s.nPositions, e)];
  for (let i = 0; i < s.nLayer; i++) {
    const k = `transformer.h.${i}`;
    specs.push(
      t(`${k}.ln_1.weight`, e),
      t(`${k}.ln_1.bias`, e),
      t(`${k}.attn.c_attn.weight`, e, 3 * e),
      t(`${k}.attn.c_attn.bias`, 3 * e),
      t(`${k}.attn.c_proj.weight`, e, e),
      t(`${k}.attn.c_proj.bias`, e),
      t(`${k}.ln_2.weight`, e),
      t(`${k}.ln_2.bias`, e),
      t(`${k}.mlp.c_fc.weight`, e, 4 * e),
      t(`${k}.mlp.c_fc.bias`, 4 * e),
      t(`${k}.mlp.c_proj.weight`, 4 * e, e),
      t(`${k}.mlp.c_proj.bias`, e),
    );
  }
  specs.push(t('transformer.ln_f.weight', e), t('transformer.ln_f.bias', e));
  return specs;
}

/** Writes `dir/config.json` and `dir/model.safetensors`; returns the parameter count. */
export async function writeRandomGpt2(dir: string, size: RandomGpt2Size = GPT2_SMALL, seed = 1): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    vocab_size: size.vocabSize,
    n_positions: size.nPositions,
    n_embd: size.nEmbd,
    n_layer: size.nLayer,
    n_head: size.nHead,
    n_inner: null,
    layer_norm_epsilon: 1e-5,
    bos_token_id: 50256,
    eos_token_id: 50256,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  let state = seed >>> 0 || 1;
  let params = 0;
  await writeSafetensorsStreamed(join(dir, 'model.safetensors'), gpt2Specs(size), (spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    params += n;
    const out = new Float32Array(n);
    const isNormWeight = /ln_(1|2|f)\.weight$/.test(spec.name);
    for (let i = 0; i < n; i++) {
      // xorshift32: uniform in [-0.05, 0.05) (the distribution does not matter for timing)
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const u = (state >>> 0) / 4294967296 - 0.5;
      out[i] = isNormWeight ? 1 + 0.1 * u : 0.1 * u;
    }
    return out;
  });
  return params;
}
