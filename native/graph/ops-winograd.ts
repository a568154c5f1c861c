// A 3×3, stride-1, same-padded nn.Conv2d by Winograd's minimal filtering F(m×m, 3×3) (Lavin &
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2015), expressed in plain ONNX ops so
// that every execution provider runs it.
//
// Why: on the CPU the VAE is ~85 % 3×3 convolution, and ORT's MLAS direct convolution already runs
// near the CPU's peak, so the only way to make it faster is fewer multiplies. F(m×m, 3×3) computes
// each m×m output tile from an (m+2)×(m+2) input tile with (m+2)² multiplies per channel pair
// instead of 9m²: F(2×2) 2.25× fewer, F(4×4) 4× fewer. The price is three transform passes over
// tensors (m+2)²/m² times the activation and kernels (m+2)²/9 times the checkpoint's; both are cheap
// where the activations are small next to the arithmetic (many channels), which is where it is used.
//
//   V[ξ, c, t] = (Bᵀ d_t,c B)[ξ]       input tiles d, as one Conv with (m+2)² fixed kernels, stride m
//   U[ξ, o, c] = (G w_o,c Gᵀ)[ξ]       the checkpoint kernel, transformed when the weights are filled
//   M[ξ, o, t] = Σ_c U[ξ, o, c] V[ξ, c, t]   (m+2)² GEMMs: one batched MatMul
//   y_t,o = Aᵀ M[·, o, t] A            as one ConvTranspose with m×m fixed kernels, stride m
//
// The results differ from the direct convolution by float rounding only, which the transforms
// amplify: per 512-channel layer max |diff| 6e-7 for F(2×2) and 1e-5 for F(4×4) on outputs of ±2
// (whose transforms reach 8× and 1/24 of their inputs); 2e-5 over a whole SD VAE decode.
import type { GraphBuilder, Value, WinogradTile } from './builder.js';
import { GraphError } from './graph-error.js';
import { conv2d } from './ops-nn.js';
import { reshape, transpose } from './ops-tensor.js';

interface Transforms {
  /** Bᵀ, a×a */
  bt: readonly number[][];
  /** G, a×3 */
  g: readonly number[][];
  /** Aᵀ, m×a */
  at: readonly number[][];
}

// The classic interpolation points: 0, ±1, ∞ for F(2, 3); 0, ±1, ±2, ∞ for F(4, 3).
const TRANSFORMS: Record<WinogradTile, Transforms> = {
  2: {
    bt: [
      [1, 0, -1, 0],
      [0, 1, 1, 0],
      [0, -1, 1, 0],
      [0, 1, 0, -1],
    ],
    g: [
      [1, 0, 0],
      [0.5, 0.5, 0.5],
      [0.5, -0.5, 0.5],
      [0, 0, 1],
    ],
    at: [
      [1, 1, 1, 0],
      [0, 1, -1, -1],
    ],
  },
  4: {
    bt: [
      [4, 0, -5, 0, 1, 0],
      [0, -4, -4, 1, 1, 0],
      [0, 4, -4, -1, 1, 0],
      [0, -2, -1, 2, 1, 0],
      [0, 2, -1, -2, 1, 0],
      [0, 4, 0, -5, 0, 1],
    ],
    g: [
      [1 / 4, 0, 0],
      [-1 / 6, -1 / 6, -1 / 6],
      [-1 / 6, 1 / 6, -1 / 6],
      [1 / 24, 1 / 12, 1 / 6],
      [1 / 24, -1 / 12, 1 / 6],
      [0, 0, 1],
    ],
    at: [
      [1, 1, 1, 1, 1, 0],
      [0, 1, -1, 2, -2, 0],
      [0, 1, 1, 4, 4, 0],
      [0, 1, -1, 8, -8, 1],
    ],
  },
};

/** Outer products row(i) ⊗ row(j) of `m` for every (i, j), flattened: [(rows)², cols, cols]. */
function outerKernels(m: readonly number[][]): number[] {
  const out: number[] = [];
  for (const ri of m) for (const rj of m) for (const a of ri) for (const b of rj) out.push(a * b);
  return out;
}

/**
 * nn.Conv2d(C, O, 3, padding=1) on x [N, C, H, W] -> [N, O, H, W] by F(m×m, 3×3). Any H, W: the
 * last tiles are padded with zeros and the extra outputs cut off.
 */
export function winogradConv3x3(g: GraphBuilder, x: Value, key: string, m: WinogradTile): Value {
  const [n, c, h, wd] = x.shape;
  const shape = g.checkpointShape(`${key}.weight`);
  if (!shape || shape.length !== 4 || shape[1] !== c || shape[2] !== 3 || shape[3] !== 3) {
    throw new GraphError('graph_shape_mismatch', `winogradConv3x3 ${key}: expected a [O, ${c}, 3, 3] kernel, got [${shape?.join(',') ?? 'none'}]`);
  }
  const o = shape[0];
  const uT = g.weight(`${key}.weight`, { winograd: m }); // [a², O, C]
  const b = g.weight(`${key}.bias`);
  const t = TRANSFORMS[m];
  const a = m + 2;
  const [th, tw] = [Math.ceil(h / m), Math.ceil(wd / m)];
  return g.scope(key, () => {
    // V: every channel of every image as its own 1-channel image, tiles taken by a stride-m Conv
    // whose a² kernels are Bᵀ's row products; the zero padding is the conv's 1 plus the last tile's.
    const bKernels = g.constant(g.floatType, [a * a, 1, a, a], outerKernels(t.bt), 'winograd_bt');
    const pads = [1, 1, th * m + 1 - h, tw * m + 1 - wd];
    const planes = reshape(g, x, [n * c, 1, h, wd]);
    const v = g.op('Conv', [planes, bKernels], { kernel_shape: [a, a], pads, strides: [m, m] }); // [N·C, a², th, tw]
    const vT = reshape(g, transpose(g, reshape(g, v, [n, c, a * a, th * tw]), [2, 1, 0, 3]), [a * a, c, n * th * tw]); // [a², C, N·T]
    const mm = g.op('MatMul', [uT, vT], {}, { name: key }); // [a², O, N·T]
    // Y: Aᵀ M A per tile, each (o, image) as a 1-channel a²-plane image; a stride-m ConvTranspose
    // with m×m kernels writes each tile's outputs side by side.
    const aKernels = g.constant(g.floatType, [a * a, 1, m, m], outerKernels(transposeRows(t.at)), 'winograd_at');
    const mT = reshape(g, transpose(g, reshape(g, mm, [a * a, o, n, th * tw]), [2, 1, 0, 3]), [n * o, a * a, th, tw]);
    let y = g.op('ConvTranspose', [mT, aKernels], { kernel_shape: [m, m], strides: [m, m] }); // [N·O, 1, th·m, tw·m]
    y = reshape(g, y, [n, o, th * m, tw * m]);
    if (th * m !== h || tw * m !== wd) y = g.op('Slice', [y, g.ints([0, 0]), g.ints([h, wd]), g.ints([2, 3])]);
    return g.op('Add', [y, reshape(g, b, [o, 1, 1])]);
  });
}

/** Aᵀ (m×a) -> A (a×m) rows, so that outerKernels gives kernel ξ=(i,j): A[i]·A[j]ᵀ over (p, q). */
function transposeRows(at: readonly number[][]): number[][] {
  return at[0].map((_, i) => at.map((row) => row[i]));
}

/** Which 3×3 convolutions of a graph run by Winograd. */
export interface WinogradPolicy {
  /** Layers with fewer input or output channels stay direct: their GEMMs are too thin to pay for the transforms. */
  minChannels: number;
  /**
   * Layers whose input has more elements than this stay direct: the transformed tiles are 2.25× the
   * activation, and ORT keeps several of them live, so on the largest maps the memory outgrows the gain.
   */
  maxActivation: number;
  /**
   * Layers whose map has fewer positions (H·W) stay direct. The transformed kernels take (m+2)²/9 of
   * the checkpoint kernel's memory (4× for F(4×4)) while the multiplies saved grow with the positions
   * each kernel is applied at, so a memory-tight model pays for Winograd only on its large maps.
   */
  minArea?: number;
}

/**
 * The CPU policy, from per-layer and whole-VAE measurements (ORT 1.30, 2 cores; docs/engine-speed.md):
 * the SD VAE's 128- to 512-channel layers up to 64 MB of float32 activation (all but the 512² level
 * and the decoder's first 256² conv, which reads 512 channels), a 512² decode 0.85 → 0.69× and encode 1.0 → 0.76× the export's time for +0.5 / +1.0 GiB
 * of peak memory; the 512² level as well would gain another 5 % for another 1.6 GiB.
 */
export const CPU_WINOGRAD: WinogradPolicy = { minChannels: 64, maxActivation: 16 * 2 ** 20 };

/**
 * The UNet's CPU policy: only its 64×64-and-larger maps (the 320-channel level at 512², whose kernels
 * are the UNet's smallest). There the convolutions are compute-bound and F(4×4) takes 0.7× their time
 * for +170 MB of kernels at 512² (+0.4 GiB of peak with its tiles: ENGINE_MEMORY=normal uses it, low
 * does not); the 640- and 1280-channel kernels of the smaller maps would cost 0.6–2 GB more
 * (docs/engine-speed.md).
 */
export const UNET_CPU_WINOGRAD: WinogradPolicy = { ...CPU_WINOGRAD, minArea: 64 * 64 };

/** 3×3 same-padded stride-1 convolution: Winograd where the policy allows, else direct. */
export function conv3x3(g: GraphBuilder, x: Value, key: string, policy: WinogradPolicy | undefined): Value {
  const [o, c, kh, kw] = g.checkpointShape(`${key}.weight`) ?? [0, 0, 0, 0];
  const activation = x.shape.reduce((p, d) => p * d, 1);
  const area = x.shape[2] * x.shape[3];
  const use =
    policy !== undefined && kh === 3 && kw === 3 && Math.min(c, o) >= policy.minChannels && activation <= policy.maxActivation && area >= (policy.minArea ?? 0);
  if (!use) return conv2d(g, x, key);
  // F(4×4) where the map has room for its 6×6 tiles; F(2×2) on the smallest maps, where F(4×4)'s
  // 4× larger kernels make the layer bound by reading them.
  return winogradConv3x3(g, x, key, Math.min(x.shape[2], x.shape[3]) >= 8 ? 4 : 2);
}

/**
 * The checkpoint's kernel w [O, C, 3, 3] as Winograd kernels U [(m+2)², O, C], U[ξ=(i,j)] = (G w Gᵀ)[i, j],
 * in float64 until the final rounding (what the graph's `winograd` weights hold).
 */
export function winogradKernels(w: Float32Array, o: number, c: number, m: WinogradTile): Float32Array {
  const gm = TRANSFORMS[m].g;
  const a = m + 2;
  const plane = o * c;
  if (w.length !== plane * 9) throw new GraphError('graph_shape_mismatch', `winogradKernels: ${w.length} values for [${o}, ${c}, 3, 3]`);
  const g0 = Float64Array.from(gm, (r) => r[0]);
  const g1 = Float64Array.from(gm, (r) => r[1]);
  const g2 = Float64Array.from(gm, (r) => r[2]);
  const out = new Float32Array(a * a * plane);
  const gw = new Float64Array(a * 3); // G·w, a×3
  for (let p = 0; p < plane; p++) {
    const base = p * 9;
    for (let i = 0; i < a; i++) {
      for (let l = 0; l < 3; l++) gw[i * 3 + l] = g0[i] * w[base + l] + g1[i] * w[base + 3 + l] + g2[i] * w[base + 6 + l];
    }
    // (G·w)·Gᵀ; plane ξ = i·a + j
    for (let i = 0; i < a; i++) {
      const t0 = gw[i * 3];
      const t1 = gw[i * 3 + 1];
      const t2 = gw[i * 3 + 2];
      for (let j = 0; j < a; j++) out[(i * a + j) * plane + p] = t0 * g0[j] + t1 * g1[j] + t2 * g2[j];
    }
  }
  return out;
}
