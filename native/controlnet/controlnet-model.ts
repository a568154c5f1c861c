// A ControlNet bound to ONNX Runtime: one session per (batch, latent size, context length), made on
// first use from the file's tensors (converted to the UNet's precision, as the extension upcasts
// the ControlNet to the UNet dtype), and the cache of loaded ControlNets an engine keeps so that
// consecutive requests with the same model file reuse its sessions.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Precision } from '../graph/builder.js';
import { EngineError } from '../runtime/engine-error.js';
import { ModelPart } from '../runtime/model-part.js';
import type { EngineRuntime } from '../runtime/ort-backend.js';
import { buildControlNetGraph, CONTROLNET_INPUTS, controlNetOutputName, controlNetResidualCount } from './controlnet-graph.js';
import { openControlNet, type ControlNetFile } from './controlnet-file.js';

export interface ControlNetDims {
  batch: number;
  /** Latent height and width; the hint is [1, 3, 8h, 8w]. */
  h: number;
  w: number;
  tokens: number;
}

export class ControlNetModel {
  private readonly part: ModelPart;
  readonly residualCount: number;

  constructor(
    readonly file: ControlNetFile,
    runtime: EngineRuntime,
    private readonly precision: Precision,
  ) {
    this.part = new ModelPart('controlnet', { runtime, source: file, maxSessions: 2 });
    this.residualCount = controlNetResidualCount(file.config);
  }

  get name(): string {
    return this.file.name;
  }

  /**
   * The raw residuals (before weights) for the UNet's inputs of this call: `out[i]` is
   * [B, C_i, h_i, w_i] for input block i, the last for the middle block.
   */
  async residuals(x: Float32Array, t: Float32Array, context: Float32Array, hint: Float32Array, dims: ControlNetDims, y?: Float32Array): Promise<Float32Array[]> {
    const { batch, h, w, tokens } = dims;
    const u = this.file.config.unet;
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) throw new EngineError('bad_input', `ControlNet ${what} has ${got} values, expected ${want}`);
    };
    expect('x', x.length, batch * u.in_channels * h * w);
    expect('t', t.length, batch);
    expect('context', context.length, batch * tokens * u.context_dim);
    expect('hint', hint.length, this.file.config.hint_channels * h * 8 * w * 8);
    const feeds: Record<string, { dtype: 'float32'; data: Float32Array; dims: number[] }> = {
      [CONTROLNET_INPUTS.x]: { dtype: 'float32', data: x, dims: [batch, u.in_channels, h, w] },
      [CONTROLNET_INPUTS.t]: { dtype: 'float32', data: t, dims: [batch] },
      [CONTROLNET_INPUTS.context]: { dtype: 'float32', data: context, dims: [batch, tokens, u.context_dim] },
      [CONTROLNET_INPUTS.hint]: { dtype: 'float32', data: hint, dims: [1, this.file.config.hint_channels, h * 8, w * 8] },
    };
    if (u.adm_in_channels !== undefined) {
      if (!y) throw new EngineError('bad_input', 'this ControlNet needs the vector conditioning (SDXL)');
      expect('y', y.length, batch * u.adm_in_channels);
      feeds[CONTROLNET_INPUTS.y] = { dtype: 'float32', data: y, dims: [batch, u.adm_in_channels] };
    }
    const key = `b${batch}-${h}x${w}-t${tokens}`;
    const build = () => buildControlNetGraph(this.file.config, { batch, height: h, width: w, tokens, precision: this.precision, weightShape: (k) => this.file.shape(k) });
    const out = await this.part.run(key, build, feeds);
    return Array.from({ length: this.residualCount }, (_, i) => out[controlNetOutputName(i)]!);
  }

  /** Sessions created so far (tests, benchmarks). */
  get sessionsCreated(): number {
    return this.part.sessionsCreated;
  }

  async dispose(): Promise<void> {
    await this.part.dispose();
    await this.file.close();
  }
}

/**
 * The ControlNets an engine has loaded, by resolved path, size and mtime (a replaced file loads
 * again). Holds at most `max` (least recently used go first).
 */
export class ControlNetCache {
  private readonly loaded = new Map<string, Promise<ControlNetModel>>();

  constructor(
    private readonly runtime: EngineRuntime,
    private readonly precision: Precision,
    private readonly max = 3,
  ) {}

  async get(path: string): Promise<ControlNetModel> {
    const st = await stat(path).catch(() => undefined);
    const key = `${resolve(path)}:${st?.size ?? 0}:${st?.mtimeMs ?? 0}`;
    let hit = this.loaded.get(key);
    if (hit) {
      this.loaded.delete(key);
      this.loaded.set(key, hit);
      return hit;
    }
    hit = openControlNet(path).then((file) => new ControlNetModel(file, this.runtime, this.precision));
    hit.catch(() => this.loaded.delete(key));
    this.loaded.set(key, hit);
    while (this.loaded.size > this.max) {
      const [oldest, model] = this.loaded.entries().next().value as [string, Promise<ControlNetModel>];
      this.loaded.delete(oldest);
      await model.then((m) => m.dispose()).catch(() => undefined);
    }
    return hit;
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map((p) => p.then((m) => m.dispose()).catch(() => undefined)));
  }
}
