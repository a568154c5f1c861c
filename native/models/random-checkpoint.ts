// Random-weight SD1 checkpoints in the original single-file format, for tests (tiny, real
// topology, `sd_tiny.config` in the metadata) and benchmarks (full-size SD1.5 from the key list).
// Weights follow ../shared/fixtures/sd1-tiny/README.md §1 so no tensor is zero and a mis-bound
// tensor changes the output: norm weights 1 + 0.1·N, biases 0.1·N, conv/linear weights
// N/sqrt(fan_in), embeddings 0.3·N. Schedule buffers are the real DDPM ones and position_ids is
// I64 0..n-1, as in real files. Tensors are produced and written one at a time.
import { f32ToF16 } from '../io/dtype.js';
import { writeSafetensorsStreamed, type TensorSpec } from '../io/safetensors.js';
import { CheckpointError } from './checkpoint-error.js';
import { CONFIG_METADATA_KEY, SD1_TINY_CONFIG, type ScheduleConfig, type SD1Config } from './config.js';
import { SCHEDULE_BUFFER_NAMES, ddpmScheduleBuffers, type ScheduleBufferName } from './ddpm-schedule.js';
import { sd1KeySpec, type KeySpec } from './key-spec.js';

/** xoshiro128** seeded through splitmix32: small, fast, and the same stream on every platform. */
export class SeededRandom {
  private s = new Uint32Array(4);
  private spare: number | undefined;

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in (0, 1), never 0 (safe for log). */
  uniform(): number {
    return (this.nextU32() + 0.5) / 4294967296;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface RandomCheckpointOptions {
  seed?: number;
  /** Storage type of the float tensors (schedule buffers stay F32 like real files). */
  dtype?: 'F32' | 'F16';
  /**
   * 'normal' as the fixture; 'uniform' draws from a uniform distribution with the same mean and
   * variance, several times faster, which is all a benchmark needs.
   */
  distribution?: 'normal' | 'uniform';
  schedule?: ScheduleConfig;
  metadata?: Record<string, string>;
  /** Called after each tensor (for progress output). */
  onTensor?: (index: number, total: number, spec: KeySpec) => void;
}

/** How a tensor is initialised, from its name and shape. */
export function initRule(spec: KeySpec): { mean: number; std: number } {
  const isBias = spec.key.endsWith('.bias');
  if (isBias) return { mean: 0, std: 0.1 };
  if (spec.key.endsWith('embedding.weight')) return { mean: 0, std: 0.3 };
  if (spec.shape.length === 1) return { mean: 1, std: 0.1 }; // GroupNorm / LayerNorm scale
  const fanIn = spec.shape.slice(1).reduce((a, d) => a * d, 1);
  return { mean: 0, std: 1 / Math.sqrt(fanIn) };
}

/** Writes `specs` with random values; returns the number of bytes of tensor data. */
export async function writeRandomCheckpoint(path: string, specs: KeySpec[], opts: RandomCheckpointOptions = {}): Promise<number> {
  const rng = new SeededRandom(opts.seed ?? 0);
  const storeAs = opts.dtype ?? 'F32';
  const uniform = opts.distribution === 'uniform';
  const scheduleNames = new Set<string>(SCHEDULE_BUFFER_NAMES);
  let schedule: Record<ScheduleBufferName, Float32Array> | undefined;
  const written: TensorSpec[] = specs.map((s) => ({
    name: s.key,
    shape: s.shape,
    dtype: s.dtype === 'I64' || scheduleNames.has(s.key) ? s.dtype : storeAs,
  }));
  let bytes = 0;
  await writeSafetensorsStreamed(
    path,
    written,
    (out, i) => {
      const spec = specs[i];
      const n = spec.shape.reduce((a, d) => a * d, 1);
      let data: ArrayBufferView;
      if (spec.dtype === 'I64') {
        if (!spec.key.endsWith('position_ids')) throw new CheckpointError('bad_config', `no random init for integer tensor ${spec.key}`);
        data = BigInt64Array.from({ length: n }, (_, j) => BigInt(j));
      } else if (scheduleNames.has(spec.key)) {
        schedule ??= ddpmScheduleBuffers(opts.schedule ?? SD1_TINY_CONFIG.schedule);
        const buf = schedule[spec.key as ScheduleBufferName];
        if (buf.length !== n) throw new CheckpointError('bad_config', `${spec.key} has ${n} entries but the schedule has ${buf.length} timesteps`);
        data = buf;
      } else {
        const { mean, std } = initRule(spec);
        const values = new Float32Array(n);
        if (uniform) {
          const half = std * Math.sqrt(3); // U(-a, a) has variance a²/3
          for (let j = 0; j < n; j++) values[j] = mean + half * (2 * (rng.nextU32() / 4294967296) - 1);
        } else {
          for (let j = 0; j < n; j++) values[j] = mean + std * rng.normal();
        }
        data = out.dtype === 'F16' ? f32ToF16(values) : values;
      }
      bytes += data.byteLength;
      opts.onTensor?.(i, specs.length, spec);
      return data;
    },
    opts.metadata,
  );
  return bytes;
}

/** The tiny SD1 config of the fixture, optionally with the 9-channel inpainting UNet input. */
export function tinyConfig(opts: { inpainting?: boolean } = {}): SD1Config {
  const c = structuredClone(SD1_TINY_CONFIG);
  if (opts.inpainting) c.unet.in_channels = 9;
  return c;
}

/**
 * A tiny SD1.x checkpoint with the fixture's topology and its config in `__metadata__`.
 * Example: `await writeTinyCheckpoint('/tmp/tiny.safetensors', { seed: 1 })`.
 */
export async function writeTinyCheckpoint(path: string, opts: { seed?: number; inpainting?: boolean; dtype?: 'F32' | 'F16' } = {}): Promise<SD1Config> {
  const config = tinyConfig(opts);
  await writeRandomCheckpoint(path, sd1KeySpec(config), {
    seed: opts.seed ?? 0,
    dtype: opts.dtype ?? 'F32',
    schedule: config.schedule,
    metadata: {
      [CONFIG_METADATA_KEY]: JSON.stringify(config),
      'sd_tiny.note': `synthetic random-weight test checkpoint (not a trained model), seed ${opts.seed ?? 0}`,
    },
  });
  return config;
}
