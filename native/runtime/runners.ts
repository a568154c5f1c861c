// The runners of a diffusion model: CLIP text encoder, OpenCLIP text tower (SDXL), UNet and VAE. Each accepts any batch size,
// context length and latent size, and keeps one session per shape (see model-part.ts). Inputs and
// outputs are plain float32 arrays in NCHW / [B, tokens, C] layout whatever the graph precision.
import { createHash } from 'node:crypto';
import type { BuiltGraph, Precision } from '../graph/builder.js';
import { buildClipTextGraph, CLIP_INPUT_IDS, CLIP_OUTPUT } from '../models/clip-text-graph.js';
import type { ClipTextConfig, OpenClipTextConfig, UNetConfig, VaeConfig } from '../models/config.js';
import { buildOpenClipTextGraph, eosIndices, OPEN_CLIP_IO } from '../models/open-clip-text-graph.js';
import { buildUNetContextGraph, buildUNetGraph, controlResidualName, UNET_INPUTS, UNET_OUTPUT } from '../models/unet-graph.js';
import { buildVaeDecoderGraph, buildVaeEncoderGraph, vaeDownscale, VAE_DECODER_IO, VAE_ENCODER_IO } from '../models/vae-graph.js';
import type { VaeGraphOptions } from '../models/vae-graph.js';
import type { WinogradPolicy } from '../graph/ops-winograd.js';
import { EngineError } from './engine-error.js';
import { checkTiling, DEFAULT_VAE_TILING, runTiled, usesTiles, type VaeTiling } from '../vae/tiled-vae.js';
import type { ModelPart } from './model-part.js';
import type { FeedTensor } from './ort-backend.js';

type ShapeLookup = (key: string) => readonly number[] | undefined;

function expectLength(what: string, got: number, expected: number, formula: string): void {
  if (got !== expected) throw new EngineError('bad_input', `${what} has ${got} values, expected ${formula} = ${expected}`);
}

function positiveInts(what: string, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v <= 0) throw new EngineError('bad_input', `${what}: ${k} must be a positive integer, got ${v}`);
  }
}

export interface TextEncodeOptions {
  /** 1 = last layer (default), 2 = A1111 "Clip skip 2". */
  clipSkip?: number;
}

/** Where a CLIP text model sits in the checkpoint and which output a family reads. */
export interface ClipRunnerOptions {
  /** Key prefix (default SD1's `cond_stage_model.transformer.text_model.`). */
  prefix?: string;
  /** false: the chosen layer's raw hidden state (SDXL), true (default): after the final LayerNorm (SD1). */
  finalLayerNorm?: boolean;
}

/** CLIP text encoder: token ids [B, 77] -> hidden states [B, 77, C] (after the final LayerNorm unless told otherwise). */
export class TextEncoderRunner {
  constructor(
    private readonly part: ModelPart,
    readonly config: ClipTextConfig,
    private readonly precision: Precision,
    private readonly weightShape: ShapeLookup,
    private readonly graphOpts: ClipRunnerOptions = {},
  ) {}

  /** Tokens per sequence (77). */
  get tokens(): number {
    return this.config.max_position_embeddings;
  }

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  private build(batch: number, clipSkip: number) {
    return () => buildClipTextGraph(this.config, { batch, clipSkip, precision: this.precision, weightShape: this.weightShape, ...this.graphOpts });
  }

  /** Example: `await te.encode(Int32Array.from(ids77), 1, { clipSkip: 2 })` -> Float32Array of 77·C. */
  async encode(ids: Int32Array | BigInt64Array, batch: number, opts: TextEncodeOptions = {}): Promise<Float32Array> {
    const clipSkip = opts.clipSkip ?? 1;
    positiveInts('text encoder', { batch, clipSkip });
    if (clipSkip > this.config.num_hidden_layers) {
      throw new EngineError('bad_input', `clip skip must be at most ${this.config.num_hidden_layers}, got ${clipSkip}`);
    }
    expectLength('input ids', ids.length, batch * this.tokens, `batch·${this.tokens}`);
    const data = ids instanceof BigInt64Array ? ids : BigInt64Array.from(ids, (v) => BigInt(v));
    const out = await this.part.run(`b${batch}-skip${clipSkip}`, this.build(batch, clipSkip), {
      [CLIP_INPUT_IDS]: { dtype: 'int64', data, dims: [batch, this.tokens] },
    });
    return out[CLIP_OUTPUT];
  }

  prepare(batch: number, clipSkip = 1): Promise<void> {
    return this.part.prepare(`b${batch}-skip${clipSkip}`, this.build(batch, clipSkip));
  }

  /** Frees the sessions (and their weight copies); the next call creates them again. */
  release(): Promise<void> {
    return this.part.release();
  }
}

/** OpenCLIP text tower output for one chunk batch. */
export interface OpenClipOutput {
  /** Input of the last resblock, [B, 77, W]. */
  penultimate: Float32Array;
  /** ln_final(last)[eos] @ text_projection, [B, E]. */
  pooled: Float32Array;
}

/** open_clip text tower (SDXL's second encoder): token ids [B, 77] -> penultimate hidden state and pooled embedding. */
export class OpenClipRunner {
  constructor(
    private readonly part: ModelPart,
    readonly config: OpenClipTextConfig,
    private readonly precision: Precision,
    private readonly weightShape: ShapeLookup,
  ) {}

  get tokens(): number {
    return this.config.context_length;
  }

  private build(batch: number) {
    return () => buildOpenClipTextGraph(this.config, { batch, precision: this.precision, weightShape: this.weightShape });
  }

  /** `eosId` marks where the pooled embedding is read (default: the row's largest id, as open_clip). */
  async encode(ids: Int32Array | BigInt64Array, batch: number, opts: { eosId?: number } = {}): Promise<OpenClipOutput> {
    positiveInts('OpenCLIP text encoder', { batch });
    expectLength('input ids', ids.length, batch * this.tokens, `batch·${this.tokens}`);
    const data = ids instanceof BigInt64Array ? ids : BigInt64Array.from(ids, (v) => BigInt(v));
    const out = await this.part.run(`b${batch}`, this.build(batch), {
      [OPEN_CLIP_IO.ids]: { dtype: 'int64', data, dims: [batch, this.tokens] },
      [OPEN_CLIP_IO.eosIndex]: { dtype: 'int64', data: eosIndices(data, batch, this.tokens, opts.eosId), dims: [batch] },
    });
    return { penultimate: out[OPEN_CLIP_IO.penultimate], pooled: out[OPEN_CLIP_IO.pooled] };
  }

  prepare(batch: number): Promise<void> {
    return this.part.prepare(`b${batch}`, this.build(batch));
  }

  release(): Promise<void> {
    return this.part.release();
  }
}

/** Latent batch and size (h, w = image size / 8) and context length (77 per chunk). */
export interface UNetDims {
  batch: number;
  h: number;
  w: number;
  tokens: number;
}

/** How a UNetRunner runs its graphs (the CPU choices of DiffusionModel). */
export interface UNetRunnerOptions {
  /** Winograd for float32 graphs (the CPU); undefined = direct convolutions only. */
  winograd?: WinogradPolicy;
  /**
   * At most this many rows per session run (undefined: the whole batch at once). A larger batch (a
   * CFG step's cond + uncond) runs in chunks, as A1111 does with batch_cond_uncond off (--medvram):
   * the activations of one row at a time for one more pass over the weights per chunk.
   */
  maxBatch?: number;
  /**
   * Compute the cross-attention keys and values once per prompt, in a session of this part (the
   * UNet context graph), and feed them to a UNet graph built with `contextKV` at every step.
   * `afterUse` runs after the context session made K/V for a new context (ENGINE_MEMORY=low frees
   * it there, so that its weights are not held beside the UNet's). Undefined: the UNet projects the
   * context itself at every step (the ldm graph).
   */
  contextKV?: { part: ModelPart; afterUse?: () => Promise<void> };
}

/**
 * Contexts whose cross-attention K/V a runner keeps (a CFG pair, a prompt-editing switch, the row
 * chunks of ENGINE_MEMORY=lowest), and at most this many bytes of them beside the newest (SDXL's K/V
 * of a CFG pair are 102 MB).
 */
const CONTEXT_KV_ENTRIES = 4;
const CONTEXT_KV_BYTES = 256 * 1024 * 1024;

function kvBytes(kv: Record<string, Float32Array>): number {
  return Object.values(kv).reduce((n, a) => n + a.byteLength, 0);
}

/** UNet: (x [B,C,h,w], t [B], context [B,T,ctx], y [B,adm] for SDXL) -> model output [B,4,h,w] (eps). */
export class UNetRunner {
  readonly winograd: WinogradPolicy | undefined;
  readonly maxBatch: number | undefined;
  /** Set when the cross-attention K/V come from the context graph (see UNetRunnerOptions). */
  readonly contextKV: UNetRunnerOptions['contextKV'];
  /** K/V per (weights, shape, context bytes), least recently used first. */
  private readonly kvCache = new Map<string, Record<string, Float32Array>>();
  /** Context graph runs so far (for tests and benchmarks: once per distinct prompt, not per step). */
  contextRuns = 0;

  constructor(
    private readonly part: ModelPart,
    readonly config: UNetConfig,
    private readonly precision: Precision,
    private readonly weightShape: ShapeLookup,
    opts: UNetRunnerOptions = {},
  ) {
    this.winograd = opts.winograd;
    this.maxBatch = opts.maxBatch;
    this.contextKV = opts.contextKV;
  }

  private key(d: UNetDims, control = false): string {
    return `b${d.batch}-${d.h}x${d.w}-t${d.tokens}${control ? '-cn' : ''}`;
  }

  private build(d: UNetDims, control = false) {
    return () =>
      buildUNetGraph(this.config, {
        batch: d.batch, height: d.h, width: d.w, tokens: d.tokens, precision: this.precision, weightShape: this.weightShape, controlResiduals: control,
        // float16 would lose F(4×4)'s transformed values, as in the VAE
        ...(this.winograd && this.precision === 'fp32' ? { winograd: this.winograd } : {}),
        ...(this.contextKV ? { contextKV: true } : {}),
      });
  }

  /**
   * The cross-attention K/V feeds for `context` ([batch, tokens, ctx]): from the cache when this
   * context (same bytes, same weights) was seen, else one run of the context graph.
   */
  private async crossKV(kv: NonNullable<UNetRunnerOptions['contextKV']>, context: Float32Array, batch: number, tokens: number): Promise<Record<string, FeedTensor>> {
    const contextBytes = new Uint8Array(context.buffer, context.byteOffset, context.byteLength);
    const id = `${kv.part.weightsId}|b${batch}-t${tokens}|${createHash('sha1').update(contextBytes).digest('hex')}`;
    let out = this.kvCache.get(id);
    if (out) {
      this.kvCache.delete(id); // re-insert: Map order is the LRU order
    } else {
      const build = () => buildUNetContextGraph(this.config, { batch, tokens, precision: this.precision, weightShape: this.weightShape });
      // The graph is keyed like the UNet's (weights id by the part), so a LoRA switch rebuilds it.
      out = await kv.part.run(`b${batch}-t${tokens}`, build, { [UNET_INPUTS.context]: { dtype: 'float32', data: context, dims: [batch, tokens, this.config.context_dim] } });
      this.contextRuns++;
      await kv.afterUse?.();
    }
    this.kvCache.set(id, out);
    // evict least recently used entries, never the one just used
    let held = [...this.kvCache.values()].reduce((n, e) => n + kvBytes(e), 0);
    for (const [oldId, entry] of this.kvCache) {
      if (oldId === id || (this.kvCache.size <= CONTEXT_KV_ENTRIES && held <= CONTEXT_KV_BYTES)) break;
      this.kvCache.delete(oldId);
      held -= kvBytes(entry);
    }
    const feeds: Record<string, FeedTensor> = {};
    for (const [name, data] of Object.entries(out)) feeds[name] = { dtype: 'float32', data, dims: [batch, tokens, data.length / (batch * tokens)] };
    return feeds;
  }

  /**
   * `y` (the ADM vector) is required exactly when the UNet has `label_emb` (SDXL). `residuals`
   * (ControlNet: one per skip connection plus the middle block, each shaped as that tensor) runs
   * the graph variant with residual inputs, a session of its own.
   */
  async eps(x: Float32Array, t: Float32Array, context: Float32Array, dims: UNetDims, y?: Float32Array, residuals?: readonly Float32Array[]): Promise<Float32Array> {
    const { batch, h, w, tokens } = dims;
    positiveInts('UNet', { batch, h, w, tokens });
    const cin = this.config.in_channels;
    const ctx = this.config.context_dim;
    expectLength('x', x.length, batch * cin * h * w, `${batch}·${cin}·${h}·${w}`);
    expectLength('t', t.length, batch, 'batch');
    expectLength('context', context.length, batch * tokens * ctx, `${batch}·${tokens}·${ctx}`);
    const adm = this.config.adm_in_channels;
    if ((adm === undefined) !== (y === undefined)) {
      throw new EngineError('bad_input', adm === undefined ? 'this UNet takes no vector conditioning' : `this UNet needs a vector conditioning of ${adm} values per row`);
    }
    const feeds: Record<string, FeedTensor> = {
      [UNET_INPUTS.x]: { dtype: 'float32', data: x, dims: [batch, cin, h, w] },
      [UNET_INPUTS.t]: { dtype: 'float32', data: t, dims: [batch] },
    };
    if (adm !== undefined && y) {
      expectLength('y', y.length, batch * adm, `${batch}·${adm}`);
      feeds[UNET_INPUTS.y] = { dtype: 'float32', data: y, dims: [batch, adm] };
    }
    if (residuals) {
      const shapes = unetResidualShapes(this.config, dims);
      if (residuals.length !== shapes.length) throw new EngineError('bad_input', `ControlNet residuals: ${residuals.length} given, the UNet takes ${shapes.length}`);
      shapes.forEach((shape, i) => {
        expectLength(`ControlNet residual ${i}`, residuals[i]!.length, shape.reduce((a, b) => a * b, 1), shape.join('·'));
        feeds[controlResidualName(i)] = { dtype: 'float32', data: residuals[i]!, dims: shape };
      });
    }
    if (this.maxBatch !== undefined && batch > this.maxBatch) return this.chunked(this.maxBatch, x, t, context, dims, y, residuals);
    if (this.contextKV) Object.assign(feeds, await this.crossKV(this.contextKV, context, batch, tokens));
    else feeds[UNET_INPUTS.context] = { dtype: 'float32', data: context, dims: [batch, tokens, ctx] };
    const control = residuals !== undefined;
    const out = await this.part.run(this.key(dims, control), this.build(dims, control), feeds);
    return out[UNET_OUTPUT];
  }

  /** `eps` over rows [i, i + size) at a time; every input's row is a contiguous 1/batch of it. */
  private async chunked(size: number, x: Float32Array, t: Float32Array, context: Float32Array, dims: UNetDims, y?: Float32Array, residuals?: readonly Float32Array[]): Promise<Float32Array> {
    const { batch, h, w } = dims;
    const rows = (a: Float32Array, from: number, n: number) => a.subarray((a.length / batch) * from, (a.length / batch) * (from + n));
    const out = new Float32Array(batch * this.config.out_channels * h * w);
    for (let i = 0; i < batch; i += size) {
      const n = Math.min(size, batch - i);
      const part = await this.eps(rows(x, i, n), rows(t, i, n), rows(context, i, n), { ...dims, batch: n }, y && rows(y, i, n), residuals?.map((r) => rows(r, i, n)));
      out.set(part, (out.length / batch) * i);
    }
    return out;
  }

  prepare(dims: UNetDims): Promise<void> {
    const d = this.maxBatch !== undefined && dims.batch > this.maxBatch ? { ...dims, batch: this.maxBatch } : dims;
    return this.part.prepare(this.key(d), this.build(d));
  }

  /** Frees the sessions (and their weight copies); the next call creates them again. */
  async release(): Promise<void> {
    await Promise.all([this.part.release(), this.contextKV?.part.release()]);
  }
}

/** Shapes of the UNet's skip tensors (input blocks 0..N-1) and, last, of the middle block output. */
export function unetResidualShapes(cfg: UNetConfig, d: UNetDims): number[][] {
  const shapes: number[][] = [];
  let h = d.h;
  let w = d.w;
  const mc = cfg.model_channels;
  shapes.push([d.batch, mc, h, w]);
  cfg.channel_mult.forEach((mult, level) => {
    for (let r = 0; r < cfg.num_res_blocks; r++) shapes.push([d.batch, mult * mc, h, w]);
    if (level !== cfg.channel_mult.length - 1) {
      h = Math.ceil(h / 2);
      w = Math.ceil(w / 2);
      shapes.push([d.batch, mult * mc, h, w]);
    }
  });
  const last = shapes[shapes.length - 1]!;
  shapes.push(last.slice());
  return shapes;
}

/** Latent batch and size; images are 8× larger. */
export interface VaeDims {
  batch: number;
  h: number;
  w: number;
}

/** VAE decoder and encoder. */
export class VaeRunner {
  constructor(
    private readonly decoderPart: ModelPart,
    private readonly encoderPart: ModelPart,
    readonly config: VaeConfig,
    private readonly precision: Precision,
    private readonly weightShape: ShapeLookup,
    /** Winograd for float32 graphs (the CPU); undefined = direct convolutions only. */
    readonly winograd?: WinogradPolicy,
  ) {}

  /** Image pixels per latent pixel (8). */
  get downscale(): number {
    return vaeDownscale(this.config);
  }

  /** Decodes/encodes that had to be redone in float32 (fp16 overflow), for logs and tests. */
  fp32Fallbacks = 0;

  private opts(d: VaeDims, precision: Precision = this.precision): VaeGraphOptions {
    // float16 would lose F(4×4)'s transformed values (they reach 8× and 1/24 of the inputs)
    const winograd = precision === 'fp32' ? this.winograd : undefined;
    return { batch: d.batch, height: d.h, width: d.w, precision, weightShape: this.weightShape, ...(winograd ? { winograd } : {}) };
  }

  /**
   * Runs a VAE graph; when a reduced-precision graph returns NaN or ±Inf (the SDXL VAE overflows in
   * fp16), runs it again as float32 — A1111's "automatically revert VAE to 32-bit floats" — so the
   * user never gets a black image.
   */
  private async runSafe(part: ModelPart, key: string, build: (p: Precision) => () => BuiltGraph, feeds: Record<string, FeedTensor>, output: string): Promise<Float32Array> {
    const out = (await part.run(key, build(this.precision), feeds))[output]!;
    if (this.precision === 'fp32' || out.every(Number.isFinite)) return out;
    this.fp32Fallbacks++;
    return (await part.run(`${key}-fp32`, build('fp32'), feeds))[output]!;
  }

  /** Large images run in overlapping tiles (native/vae/tiled-vae.ts); smaller ones in one piece. */
  private tilingValue: VaeTiling = DEFAULT_VAE_TILING;

  get tiling(): VaeTiling {
    return this.tilingValue;
  }

  set tiling(t: VaeTiling) {
    checkTiling(t);
    this.tilingValue = { ...t };
  }

  /** z [B, 4, h, w], already divided by scale_factor -> image [B, 3, 8h, 8w], raw (not clamped). */
  async decode(z: Float32Array, dims: VaeDims): Promise<Float32Array> {
    const { batch, h, w } = dims;
    positiveInts('VAE decode', { batch, h, w });
    const c = this.config.embed_dim;
    expectLength('z', z.length, batch * c * h * w, `${batch}·${c}·${h}·${w}`);
    if (!usesTiles(this.tiling, h, w)) return this.decodeWhole(z, dims);
    const f = this.downscale;
    return runTiled({
      input: z, batch, cin: c, cout: this.config.out_ch, h, w, fin: 1, fout: f, tiling: this.tiling,
      run: (tile, th, tw) => this.decodeWhole(tile, { batch, h: th, w: tw }),
    });
  }

  private decodeWhole(z: Float32Array, dims: VaeDims): Promise<Float32Array> {
    const { batch, h, w } = dims;
    const c = this.config.embed_dim;
    return this.runSafe(
      this.decoderPart,
      `b${batch}-${h}x${w}`,
      (p) => () => buildVaeDecoderGraph(this.config, this.opts(dims, p)),
      { [VAE_DECODER_IO.input]: { dtype: 'float32', data: z, dims: [batch, c, h, w] } },
      VAE_DECODER_IO.output,
    );
  }

  /** image [B, 3, 8h, 8w] in [-1, 1] -> moments [B, 8, h, w] (mean, then logvar, unclamped). */
  async encodeMoments(image: Float32Array, dims: VaeDims): Promise<Float32Array> {
    const { batch, h, w } = dims;
    positiveInts('VAE encode', { batch, h, w });
    const f = this.downscale;
    const c = this.config.in_channels;
    expectLength('image', image.length, batch * c * h * f * w * f, `${batch}·${c}·${h * f}·${w * f}`);
    if (!usesTiles(this.tiling, h, w)) return this.encodeWhole(image, dims);
    return runTiled({
      input: image, batch, cin: c, cout: 2 * this.config.embed_dim, h, w, fin: f, fout: 1, tiling: this.tiling,
      run: (tile, th, tw) => this.encodeWhole(tile, { batch, h: th, w: tw }),
    });
  }

  private encodeWhole(image: Float32Array, dims: VaeDims): Promise<Float32Array> {
    const { batch, h, w } = dims;
    const f = this.downscale;
    const c = this.config.in_channels;
    return this.runSafe(
      this.encoderPart,
      `b${batch}-${h}x${w}`,
      (p) => () => buildVaeEncoderGraph(this.config, this.opts(dims, p)),
      { [VAE_ENCODER_IO.input]: { dtype: 'float32', data: image, dims: [batch, c, h * f, w * f] } },
      VAE_ENCODER_IO.output,
    );
  }

  /** The shape a decode or encode of `dims` runs the graph at: the tile when tiled. */
  private runDims(dims: VaeDims): VaeDims {
    if (!usesTiles(this.tiling, dims.h, dims.w)) return dims;
    return { batch: dims.batch, h: Math.min(this.tiling.tile, dims.h), w: Math.min(this.tiling.tile, dims.w) };
  }

  prepareDecoder(dims: VaeDims): Promise<void> {
    const d = this.runDims(dims);
    return this.decoderPart.prepare(`b${d.batch}-${d.h}x${d.w}`, () => buildVaeDecoderGraph(this.config, this.opts(d)));
  }

  prepareEncoder(dims: VaeDims): Promise<void> {
    const d = this.runDims(dims);
    return this.encoderPart.prepare(`b${d.batch}-${d.h}x${d.w}`, () => buildVaeEncoderGraph(this.config, this.opts(d)));
  }

  /** Frees decoder and encoder sessions; the next call creates them again. */
  async release(): Promise<void> {
    await Promise.all([this.decoderPart.release(), this.encoderPart.release()]);
  }
}
