// A loaded GPT-2: the graph of gpt2-graph.ts in one ONNX Runtime session, and the KV cache that the
// caller threads through `forward` calls. The cache is plain float32 arrays ([1, H, P, D] per layer,
// keys and values), so a caller can keep several sequences and fork one cheaply.
//
//   const lm = await Gpt2Model.load('models/prompt-expanders/MagicPrompt', { runtime });
//   let cache = lm.emptyCache();
//   const step = await lm.forward([64, 3797], cache); // step.logits: [2 × V], step.cache: P = 2
import type { Precision } from '../graph/builder.js';
import { ModelPart } from '../runtime/model-part.js';
import type { EngineRuntime, FeedTensor } from '../runtime/ort-backend.js';
import { loadGpt2Config, type Gpt2Config } from './gpt2-config.js';
import {
  buildGpt2Graph,
  LM_ATTENTION_BIAS,
  LM_INPUT_IDS,
  LM_LOGITS,
  LM_POSITION_IDS,
  MASKED,
  pastKey,
  pastValue,
  presentKey,
  presentValue,
} from './gpt2-graph.js';
import { openGpt2Weights, type Gpt2Weights } from './gpt2-weights.js';
import { LmError } from './lm-error.js';

export interface KvCache {
  /** Tokens cached (P). */
  readonly length: number;
  /** Per layer, [1, H, P, D]. */
  readonly keys: readonly Float32Array[];
  readonly values: readonly Float32Array[];
}

export interface ForwardResult {
  /** [S, V]: the logits of every new position. */
  logits: Float32Array;
  cache: KvCache;
}

export interface Gpt2LoadOptions {
  runtime: EngineRuntime;
  precision?: Precision;
}

const GRAPH_KEY = 'gpt2';

export class Gpt2Model {
  private constructor(
    readonly dir: string,
    readonly config: Gpt2Config,
    private readonly weights: Gpt2Weights,
    private readonly part: ModelPart,
    private readonly precision: Precision,
  ) {}

  /** Opens the folder's config and weights and creates the session (checks every weight shape). */
  static async load(dir: string, opts: Gpt2LoadOptions): Promise<Gpt2Model> {
    const config = await loadGpt2Config(dir);
    const weights = await openGpt2Weights(dir);
    try {
      checkWeights(config, weights);
      const precision = opts.precision ?? opts.runtime.precision;
      const part = new ModelPart(`gpt2 ${dir}`, { runtime: opts.runtime, source: weights, maxSessions: 1 });
      const model = new Gpt2Model(dir, config, weights, part, precision);
      await part.prepare(GRAPH_KEY, () => model.build());
      return model;
    } catch (err) {
      await weights.close();
      throw err;
    }
  }

  /** Bytes of weights each decoding step reads (what bounds tokens/s on a CPU). */
  get weightBytes(): number {
    const c = this.config;
    const perLayer = 2 * c.nEmbd * 2 + c.nEmbd * 3 * c.nEmbd + 3 * c.nEmbd + c.nEmbd * c.nEmbd + c.nEmbd + 2 * c.nEmbd * c.nInner + c.nInner + c.nEmbd;
    const params = c.vocabSize * c.nEmbd + c.nPositions * c.nEmbd + c.nLayer * perLayer + 2 * c.nEmbd;
    return params * (this.precision === 'fp16' ? 2 : 4);
  }

  emptyCache(): KvCache {
    const empty = new Float32Array(0);
    return { length: 0, keys: Array.from({ length: this.config.nLayer }, () => empty), values: Array.from({ length: this.config.nLayer }, () => empty) };
  }

  /**
   * Runs `ids` (S ≥ 1 new tokens) after the cached ones: positions continue at `cache.length`.
   * @throws LmError `lm_prompt_too_long` past the model's `n_positions`
   */
  async forward(ids: readonly number[], cache: KvCache): Promise<ForwardResult> {
    const c = this.config;
    const s = ids.length;
    const p = cache.length;
    if (s === 0) throw new LmError('lm_bad_params', 'forward needs at least one token');
    if (p + s > c.nPositions) {
      throw new LmError('lm_prompt_too_long', `${p + s} tokens do not fit this model's context of ${c.nPositions} tokens`);
    }
    const d = c.nEmbd / c.nHead;
    const bias = new Float32Array(s * (p + s));
    for (let r = 0; r < s; r++) for (let j = p + r + 1; j < p + s; j++) bias[r * (p + s) + j] = MASKED;
    const feeds: Record<string, FeedTensor> = {
      [LM_INPUT_IDS]: { dtype: 'int64', data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [1, s] },
      [LM_POSITION_IDS]: { dtype: 'int64', data: BigInt64Array.from({ length: s }, (_, i) => BigInt(p + i)), dims: [1, s] },
      [LM_ATTENTION_BIAS]: { dtype: 'float32', data: bias, dims: [1, 1, s, p + s] },
    };
    for (let i = 0; i < c.nLayer; i++) {
      feeds[pastKey(i)] = { dtype: 'float32', data: cache.keys[i], dims: [1, c.nHead, p, d] };
      feeds[pastValue(i)] = { dtype: 'float32', data: cache.values[i], dims: [1, c.nHead, p, d] };
    }
    const out = await this.part.run(GRAPH_KEY, () => this.build(), feeds);
    return {
      logits: out[LM_LOGITS],
      cache: {
        length: p + s,
        keys: Array.from({ length: c.nLayer }, (_, i) => out[presentKey(i)]),
        values: Array.from({ length: c.nLayer }, (_, i) => out[presentValue(i)]),
      },
    };
  }

  async dispose(): Promise<void> {
    await this.part.dispose();
    await this.weights.close();
  }

  private build() {
    const lmHeadKey = !this.config.tieWordEmbeddings && this.weights.shape('lm_head.weight') ? 'lm_head.weight' : undefined;
    return buildGpt2Graph(this.config, { precision: this.precision, weightShape: (k) => this.weights.shape(k), ...(lmHeadKey ? { lmHeadKey } : {}) });
  }
}

/** Every weight the config implies, with its shape, before any session is made. */
function checkWeights(c: Gpt2Config, w: Gpt2Weights): void {
  const expect = (key: string, shape: readonly number[]): void => {
    const got = w.shape(key);
    if (!got) throw new LmError('lm_missing_weight', `${w.path}: no tensor "${key}" (expected [${shape.join(', ')}] from config.json)`);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new LmError('lm_bad_weight', `${w.path}: ${key} is [${got.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
  };
  const e = c.nEmbd;
  expect('transformer.wte.weight', [c.vocabSize, e]);
  expect('transformer.wpe.weight', [c.nPositions, e]);
  for (let i = 0; i < c.nLayer; i++) {
    const k = `transformer.h.${i}`;
    expect(`${k}.ln_1.weight`, [e]);
    expect(`${k}.ln_1.bias`, [e]);
    expect(`${k}.attn.c_attn.weight`, [e, 3 * e]);
    expect(`${k}.attn.c_attn.bias`, [3 * e]);
    expect(`${k}.attn.c_proj.weight`, [e, e]);
    expect(`${k}.attn.c_proj.bias`, [e]);
    expect(`${k}.ln_2.weight`, [e]);
    expect(`${k}.ln_2.bias`, [e]);
    expect(`${k}.mlp.c_fc.weight`, [e, c.nInner]);
    expect(`${k}.mlp.c_fc.bias`, [c.nInner]);
    expect(`${k}.mlp.c_proj.weight`, [c.nInner, e]);
    expect(`${k}.mlp.c_proj.bias`, [e]);
  }
  expect('transformer.ln_f.weight', [e]);
  expect('transformer.ln_f.bias', [e]);
  if (!c.tieWordEmbeddings) expect('lm_head.weight', [c.vocabSize, e]);
}

export { loadGpt2Config };
