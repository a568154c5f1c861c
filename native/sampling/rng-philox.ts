// AUTOMATIC1111's "NV" random source (modules/rng_philox.py): Philox 4x32-10 keyed by the seed,
// one counter per element, Box–Muller on the first two outputs with A1111's float32 constants.
// It reproduces what CUDA's torch.randn gives on NVIDIA GPUs, on any machine; fixture README §10.

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const ROUNDS = 10;
/** A1111 writes these as float32 arrays; their float32 values enter float64 arithmetic. */
const TWO_POW32_INV = Math.fround(2.3283064e-10);
const TWO_POW32_INV_2PI = Math.fround(2.3283064e-10 * 6.2831855);

/** High 32 bits of the 64-bit product of two uint32 values (the low half is Math.imul). */
function mulHi(a: number, b: number): number {
  // 16-bit limbs: every partial product and sum stays below 2^53, and the shifts act on values < 2^32.
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const lh = aL * bH;
  const hl = aH * bL;
  const mid = ((aL * bL) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aH * bH + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox 4x32 with 10 rounds on one counter; `out` receives the 4 output words.
 * Round function as A1111 writes it (the key is bumped after each of the first 9 rounds).
 */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, key0: number, key1: number, out: Uint32Array): void {
  let k0 = key0 >>> 0;
  let k1 = key1 >>> 0;
  for (let r = 0; r < ROUNDS; r++) {
    const v1Lo = Math.imul(c0, PHILOX_M0) >>> 0;
    const v1Hi = mulHi(c0 >>> 0, PHILOX_M0);
    const v2Lo = Math.imul(c2, PHILOX_M1) >>> 0;
    const v2Hi = mulHi(c2 >>> 0, PHILOX_M1);
    c0 = (v2Hi ^ c1 ^ k0) >>> 0;
    c1 = v2Lo;
    c2 = (v1Hi ^ c3 ^ k1) >>> 0;
    c3 = v1Lo;
    if (r < ROUNDS - 1) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** A1111's box_muller: float32 constants, float64 arithmetic, result rounded to float32. */
export function philoxBoxMuller(x: number, y: number): number {
  const u = x * TWO_POW32_INV + TWO_POW32_INV / 2;
  const v = y * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2;
  return Math.fround(Math.sqrt(-2 * Math.log(u)) * Math.sin(v));
}

/** The seed (up to 2^53) as the two uint32 key words [low, high]. */
export function seedKey(seed: number): [number, number] {
  const s = BigInt.asUintN(64, BigInt(Math.trunc(seed)));
  return [Number(s & 0xffffffffn), Number(s >> 32n)];
}

/**
 * `rng_philox.Generator(seed)`: every `randn` call uses counter word 0 = the call offset
 * (0, 1, 2, …) and word 2 = the element index.
 *
 * @example new PhiloxGenerator(1234).randn(256) // A1111 "NV" noise for a [1,4,8,8] latent
 */
export class PhiloxGenerator {
  private offset = 0;
  private readonly key: [number, number];

  constructor(readonly seed: number) {
    this.key = seedKey(seed);
  }

  randn(n: number): Float32Array {
    const out = new Float32Array(n);
    const words = new Uint32Array(4);
    const offset = this.offset++;
    for (let i = 0; i < n; i++) {
      philox4x32(offset, 0, i, 0, this.key[0], this.key[1], words);
      out[i] = philoxBoxMuller(words[0], words[1]);
    }
    return out;
  }
}
