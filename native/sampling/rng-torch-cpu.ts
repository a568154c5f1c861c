// torch's CPU generator: mt19937 plus the float32 `randn` algorithm of ATen's CPU normal kernel,
// so `rng: "cpu"` reproduces `torch.manual_seed(seed); torch.randn(shape)` (and ComfyUI's seeds).
// Fixture README §10 describes the algorithm; values agree with torch to ~1e-6 (torch evaluates
// log/sin/cos with vectorised float32 approximations, this file in float64).

const MT_N = 624;
const MT_M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_PI = 2 * Math.PI;
/** torch's uniform_real_distribution<float> keeps 24 random bits, <double> keeps 53. */
const FLOAT_MASK = 0xffffff;
const FLOAT_SCALE = 2 ** -24;
const DOUBLE_SCALE = 2 ** -53;
/** Below this many elements torch uses the serial double-precision path. */
const FILL_BLOCK = 16;

/** The 32-bit Mersenne Twister with the standard `init_genrand` seeding (what torch uses). */
export class Mt19937 {
  private readonly state = new Uint32Array(MT_N);
  private index = MT_N;

  constructor(seed: number) {
    const s = this.state;
    s[0] = seed >>> 0;
    for (let i = 1; i < MT_N; i++) {
      const prev = s[i - 1] ^ (s[i - 1] >>> 30);
      s[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  nextU32(): number {
    if (this.index >= MT_N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < MT_N; i++) {
      const y = (s[i] & UPPER_MASK) | (s[(i + 1) % MT_N] & LOWER_MASK);
      s[i] = (s[(i + MT_M) % MT_N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    this.index = 0;
  }
}

/**
 * `torch.Generator('cpu').manual_seed(seed)`: state carries across calls, like torch's.
 *
 * @example new TorchCpuGenerator(1234).randn(4 * 8 * 8) // the seed's [1,4,8,8] initial noise
 */
export class TorchCpuGenerator {
  private readonly engine: Mt19937;
  /** torch caches the second Box–Muller value of the double path in the generator. */
  private cachedDoubleNormal: number | undefined;

  constructor(readonly seed: number) {
    // torch seeds mt19937 with the low 32 bits of the 64-bit seed.
    this.engine = new Mt19937(Number(BigInt.asUintN(32, BigInt(Math.trunc(seed)))));
  }

  /** `torch.randn(n)` in float32 (a contiguous tensor of n elements). */
  randn(n: number): Float32Array {
    const out = new Float32Array(n);
    if (n >= FILL_BLOCK) this.normalFill(out);
    else for (let i = 0; i < n; i++) out[i] = this.normalDouble();
    return out;
  }

  private uniformFloat(): number {
    return (this.engine.nextU32() & FLOAT_MASK) * FLOAT_SCALE;
  }

  private uniformDouble(): number {
    // random64() = (first draw << 32) | second draw; keep the low 53 bits.
    const hi = this.engine.nextU32();
    const lo = this.engine.nextU32();
    return ((hi & 0x1fffff) * 2 ** 32 + lo) * DOUBLE_SCALE;
  }

  private normalFill(out: Float32Array): void {
    const n = out.length;
    for (let i = 0; i < n; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + FILL_BLOCK <= n; i += FILL_BLOCK) fill16(out, i);
    if (n % FILL_BLOCK !== 0) {
      // torch re-draws the last 16 uniforms and transforms that overlapping block again.
      const start = n - FILL_BLOCK;
      for (let i = 0; i < FILL_BLOCK; i++) out[start + i] = this.uniformFloat();
      fill16(out, start);
    }
  }

  private normalDouble(): number {
    if (this.cachedDoubleNormal !== undefined) {
      const v = this.cachedDoubleNormal;
      this.cachedDoubleNormal = undefined;
      return v;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = TWO_PI * u1;
    this.cachedDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** ATen's normal_fill_16: Box–Muller over 8 pairs (u[j], u[j+8]) of one 16-element block. */
function fill16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = 1 - data[at + j];
    const u2 = data[at + j + 8];
    const radius = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    data[at + j] = radius * Math.cos(theta);
    data[at + j + 8] = radius * Math.sin(theta);
  }
}
