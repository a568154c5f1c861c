// SDXL conditioning as AUTOMATIC1111 v1.10.1 builds it (sd_models_xl.get_learned_conditioning over
// sgm's GeneralConditioner with A1111's custom-words embedders; sdxl-tiny README §4):
//   crossattn = [CLIP-L hidden_states[layer_idx] | OpenCLIP penultimate], each embedder with its
//               own tokenizer, 75-token chunks, BREAK, comma backtrack and "Original" emphasis;
//   vector    = [OpenCLIP pooled of the first chunk, E(h), E(w), E(crop top), E(crop left), E(h), E(w)]
//               with E the 256-wide sinusoidal embedding and h, w the image's own size, crop (0, 0);
//   a negative prompt batch of empty texts gets zero text parts (crossattn and pooled).
import { timestepFrequencies } from '../../models/unet-blocks.js';
import type { SDXLConfig } from '../../models/config.js';
import type { DiffusionModel } from '../../runtime/diffusion-model.js';
import type { ClipTokenizer } from '../../text/clip-tokenizer.js';
import { encodePrompts, type Conditioning, type PromptBatchEncoder } from '../../text/conditioning.js';
import type { EmbeddingLookup } from '../../text/chunking.js';
import { TextError } from '../../text/errors.js';

/** Width of each of the six size/crop embeddings (sgm ConcatTimestepEmbedderND outdim). */
export const SIZE_EMBED_DIM = 256;

/** ConcatTimestepEmbedderND for one value: [cos(v·f_i), sin(v·f_i)], i < 128, in float32. */
function embedValue(out: Float32Array, offset: number, v: number, freqs: readonly number[]): void {
  const half = freqs.length;
  for (let i = 0; i < half; i++) {
    const arg = Math.fround(Math.fround(v) * freqs[i]!);
    out[offset + i] = Math.cos(arg);
    out[offset + half + i] = Math.sin(arg);
  }
}

/** The size part of `vector` [1536]: original size (h, w), crop (top, left), target size (h, w). */
export function sizeEmbedding(width: number, height: number, cropTop = 0, cropLeft = 0): Float32Array {
  const freqs = timestepFrequencies(SIZE_EMBED_DIM / 2);
  const out = new Float32Array(6 * SIZE_EMBED_DIM);
  [height, width, cropTop, cropLeft, height, width].forEach((v, i) => embedValue(out, i * SIZE_EMBED_DIM, v, freqs));
  return out;
}

export interface SdxlEncodeOptions {
  width: number;
  height: number;
  isNegative?: boolean;
  embeddings?: EmbeddingLookup;
}

/** OpenCLIP pads with 0 after the first EOS of every row (A1111: id_pad != id_end). */
function padAfterEos(ids: Int32Array, batch: number, eos: number): Int32Array {
  const out = Int32Array.from(ids);
  const n = ids.length / batch;
  for (let b = 0; b < batch; b++) {
    const first = out.subarray(b * n, (b + 1) * n).indexOf(eos);
    if (first >= 0) out.fill(0, b * n + first + 1, (b + 1) * n);
  }
  return out;
}

/**
 * The SDXL prompt-batch encoder: one Conditioning per text, with `vector` set.
 *
 * @throws TextError `sdxl_token_mismatch` when the two tokenizers chunk a prompt differently (A1111 fails there too)
 */
export function sdxlPromptEncoder(model: DiffusionModel, config: SDXLConfig, clipL: ClipTokenizer, openClip: ClipTokenizer, opts: SdxlEncodeOptions): PromptBatchEncoder {
  const oc = model.openClip;
  if (!oc) throw new TextError('bad_conditioning_shape', 'an SDXL model needs its OpenCLIP text encoder');
  // transformers hidden_states[layer_idx] = the output of encoder layer layer_idx − 1: in clip-skip terms
  const clipSkip = config.clip_l.num_hidden_layers - config.clip_l.layer_idx + 1;
  return async (texts) => {
    const [l, g] = await Promise.all([
      encodePrompts(texts, { tokenizer: clipL, embeddings: opts.embeddings, encodeChunk: (ids, b) => model.textEncoder.encode(ids, b, { clipSkip }) }),
      encodePrompts(texts, {
        tokenizer: openClip,
        embeddings: opts.embeddings,
        encodeChunk: async (ids, b) => {
          const r = await oc.encode(padAfterEos(ids, b, openClip.eosId), b, { eosId: openClip.eosId });
          return { hidden: r.penultimate, pooled: r.pooled };
        },
      }),
    ]);
    const zero = opts.isNegative === true && texts.every((t) => t === '');
    const size = sizeEmbedding(opts.width, opts.height);
    return l.map((cl, i): Conditioning => {
      const cg = g[i]!;
      if (cl.tokens !== cg.tokens) {
        throw new TextError('sdxl_token_mismatch', `the two SDXL text encoders split this prompt into ${cl.tokens / 77} and ${cg.tokens / 77} chunks; shorten or rephrase it`);
      }
      const channels = cl.channels + cg.channels;
      const data = new Float32Array(cl.tokens * channels); // [1, 77·k, C_l + C_g]
      if (!zero) {
        for (let t = 0; t < cl.tokens; t++) {
          data.set(cl.data.subarray(t * cl.channels, (t + 1) * cl.channels), t * channels);
          data.set(cg.data.subarray(t * cg.channels, (t + 1) * cg.channels), t * channels + cl.channels);
        }
      }
      const pooled = cg.pooled!;
      const vector = new Float32Array(pooled.length + size.length); // [1, adm]
      if (!zero) vector.set(pooled);
      vector.set(size, pooled.length);
      return { data, tokens: cl.tokens, channels, tokenCount: cl.tokenCount, pooled: zero ? new Float32Array(pooled.length) : pooled, vector };
    });
  };
}
