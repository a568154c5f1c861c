// Seeds as A1111 handles them: −1 becomes a random seed in [0, 4294967294) that is reported back,
// image i of a run gets seed + i, and every image has its own generator (torch CPU or A1111 "NV"
// philox) that yields first the initial noise and then every noise tensor the sampler draws.
import { randomInt } from 'node:crypto';
import { SamplingError } from './errors.js';
import { PhiloxGenerator } from './rng-philox.js';
import { TorchCpuGenerator } from './rng-torch-cpu.js';

export type RngSource = 'cpu' | 'nv';

/** A1111 get_fixed_seed: random.randrange(4294967294). */
export const RANDOM_SEED_LIMIT = 4294967294;

export interface NoiseGenerator {
  readonly seed: number;
  randn(n: number): Float32Array;
}

/**
 * The seed a run uses: −1 (A1111's "random") picks one in [0, 4294967294); anything else must be a
 * non-negative safe integer.
 *
 * @example resolveSeed(-1) // e.g. 3141592653, to be written into the infotext
 */
export function resolveSeed(seed: number, random: (limit: number) => number = (limit) => randomInt(0, limit)): number {
  if (seed === -1) return random(RANDOM_SEED_LIMIT);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new SamplingError('bad_seed', `seed must be -1 or a non-negative integer, got ${seed}`);
  return seed;
}

/** A1111 all_seeds without variation seeds: `seed + i` for every image of the run. */
export function batchSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => seed + i);
}

export function createGenerator(source: RngSource, seed: number): NoiseGenerator {
  return source === 'nv' ? new PhiloxGenerator(seed) : new TorchCpuGenerator(seed);
}

export interface ImageNoiseOptions {
  /** One seed per image of the batch. */
  seeds: readonly number[];
  /** Elements of one image's latent (4·h·w). */
  perImage: number;
  source: RngSource;
  /**
   * A1111 "Eta noise seed delta" (ENSD, default 0): after the initial noise the generators are
   * re-seeded with seed + ensd (for every sampler; A1111 only writes ENSD into the infotext of
   * samplers flagged usesEnsd in registry.ts).
   */
  ensd?: number;
}

/**
 * A1111's ImageRNG: `next()` first returns the initial noise [B, 4, h, w] (one draw per image
 * generator), then one draw per image for every noise tensor the sampler asks for.
 *
 * @example const rng = new ImageNoise({ seeds: [1234], perImage: 4 * 64 * 64, source: 'nv' });
 *          const x = rng.next(); await sampler.sample({ ..., noise: () => rng.next() });
 */
export class ImageNoise {
  private generators: NoiseGenerator[];
  private first = true;

  constructor(private readonly opts: ImageNoiseOptions) {
    if (opts.seeds.length === 0) throw new SamplingError('bad_seed', 'a batch needs at least one seed');
    this.generators = opts.seeds.map((s) => createGenerator(opts.source, s));
  }

  next(): Float32Array {
    const { perImage } = this.opts;
    const out = new Float32Array(this.generators.length * perImage); // [B, 4, h, w]
    this.generators.forEach((g, i) => out.set(g.randn(perImage), i * perImage));
    if (this.first) {
      this.first = false;
      if (this.opts.ensd) this.generators = this.opts.seeds.map((s) => createGenerator(this.opts.source, s + this.opts.ensd!));
    }
    return out;
  }
}
