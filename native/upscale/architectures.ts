// Architecture detection and key conversion for upscaler state dicts, as spandrel 0.3.4 does it:
// `Compact` (SRVGGNetCompact) is tried first, then `ESRGAN` (RRDBNet) in any of its four key layouts
// (original "model.N", Real-ESRGAN/BasicSR, BSRGAN/RealSR, ESRGAN+). New layouts are renamed to the
// old one and the hyperparameters are read off the old keys, exactly like spandrel's loader, so a
// file gives the same network whichever layout it was saved in. Anything else is refused with
// `unsupported_upscaler`, naming the architecture it looks like.
import type { LazyTensor, UpscalerStateDict } from './state-dict.js';
import { UpscaleError } from './upscale-error.js';

/** spandrel's SizeRequirements: inputs are padded (right/bottom) up to these. */
export interface SizeRequirements {
  minimum: number;
  multipleOf: number;
}

export interface EsrganSpec {
  readonly arch: 'ESRGAN';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly numFilters: number;
  readonly numBlocks: number;
  /** Nearest ×2 up-convolutions (the internal scale is 2^upconvs). */
  readonly upconvs: number;
  /** Pixel-unshuffle factor of the input (RealESRGAN_x2plus: 2), 0 when none. */
  readonly shuffle: 0 | 2 | 4;
  readonly plus: boolean;
  /** Output pixels per input pixel. */
  readonly scale: number;
  readonly size: SizeRequirements;
  /** Tensors under their old ("model.N") names. */
  readonly tensors: ReadonlyMap<string, LazyTensor>;
}

export interface CompactSpec {
  readonly arch: 'Compact';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly numFilters: number;
  readonly numConv: number;
  readonly scale: number;
  readonly size: SizeRequirements;
  readonly tensors: ReadonlyMap<string, LazyTensor>;
}

export type UpscalerSpec = EsrganSpec | CompactSpec;

/** spandrel hard-codes the RRDB growth width; every published RRDB model uses it. */
const GROWTH_CHANNELS = 32;

const has = (t: ReadonlyMap<string, LazyTensor>, ...keys: string[]): boolean => keys.every((k) => t.has(k));

/** 1 + the largest integer N of keys `<prefix>.N.…` (spandrel's get_seq_len). */
function seqLen(keys: Iterable<string>, prefix: string): number {
  let max = -1;
  const p = `${prefix}.`;
  for (const k of keys) {
    if (!k.startsWith(p)) continue;
    const n = /^(\d+)\./.exec(k.slice(p.length));
    if (n) max = Math.max(max, Number(n[1]));
  }
  return max + 1;
}

function isEsrgan(t: ReadonlyMap<string, LazyTensor>): boolean {
  return (
    has(t, 'model.0.weight', 'model.1.sub.0.RDB1.conv1.0.weight') ||
    has(t, 'conv_first.weight', 'body.0.rdb1.conv1.weight', 'conv_body.weight', 'conv_last.weight') ||
    has(t, 'conv_first.weight', 'RRDB_trunk.0.RDB1.conv1.weight', 'trunk_conv.weight', 'conv_last.weight') ||
    has(t, 'model.0.weight', 'model.1.sub.0.RDB1.conv1x1.weight')
  );
}

const RDB_NEW = [/^RRDB_trunk\.(\d+)\.RDB(\d)\.conv(\d+)\.(weight|bias)$/, /^body\.(\d+)\.rdb(\d)\.conv(\d+)\.(weight|bias)$/];

/** spandrel's _to_old_arch: Real-ESRGAN / BSRGAN names → "model.N" names (already old: unchanged). */
export function toOldEsrganKeys(t: ReadonlyMap<string, LazyTensor>): Map<string, LazyTensor> {
  if (!t.has('conv_first.weight')) return new Map(t);
  let nb = -1;
  for (const re of RDB_NEW) {
    for (const k of t.keys()) {
      const m = re.exec(k);
      if (m) nb = Math.max(nb, Number(m[1]));
    }
    if (nb >= 0) break;
  }
  nb += 1;
  const out = new Map<string, LazyTensor>();
  const put = (k: string, v: LazyTensor | undefined) => {
    if (v) out.set(k, v);
  };
  for (const kind of ['weight', 'bias']) put(`model.0.${kind}`, t.get(`conv_first.${kind}`));
  // spandrel's state map lists the RDB convolutions before the trunk conv (it re-adds that entry last).
  for (const re of RDB_NEW) {
    for (const [k, v] of t) {
      const m = re.exec(k);
      if (m) out.set(`model.1.sub.${m[1]}.RDB${m[2]}.conv${m[3]}.0.${m[4]}`, v);
    }
  }
  for (const kind of ['weight', 'bias']) put(`model.1.sub.${nb}.${kind}`, t.get(`trunk_conv.${kind}`) ?? t.get(`conv_body.${kind}`));
  let maxUp = 0;
  for (const [k, v] of t) {
    const m = /^(upconv|conv_up)(\d)\.(weight|bias)/.exec(k);
    if (m) {
      out.set(`model.${Number(m[2]) * 3}.${m[3]}`, v);
      maxUp = Math.max(maxUp, Number(m[2]) * 3);
    }
  }
  for (const [k, v] of t) {
    if (k === 'HRconv.weight' || k === 'conv_hr.weight') out.set(`model.${maxUp + 2}.weight`, v);
    else if (k === 'HRconv.bias' || k === 'conv_hr.bias') out.set(`model.${maxUp + 2}.bias`, v);
    else if (k === 'conv_last.weight') out.set(`model.${maxUp + 4}.weight`, v);
    else if (k === 'conv_last.bias') out.set(`model.${maxUp + 4}.bias`, v);
  }
  // spandrel sorts by the layer number (stable), so the order is module order.
  const layer = (k: string) => Number(k.split('.')[1]);
  return new Map([...out].sort((a, b) => layer(a[0]) - layer(b[0])));
}

function shapeOf(t: ReadonlyMap<string, LazyTensor>, key: string, what: string, rank: number): readonly number[] {
  const v = t.get(key);
  if (!v) throw new UpscaleError('bad_upscaler_file', `${what}: tensor ${key} is missing`);
  if (v.shape.length !== rank) throw new UpscaleError('bad_upscaler_file', `${what}: tensor ${key} has shape [${v.shape.join(',')}], expected rank ${rank}`);
  return v.shape;
}

function expectShape(t: ReadonlyMap<string, LazyTensor>, key: string, shape: readonly number[], what: string): void {
  const s = t.get(key)?.shape;
  if (!s) throw new UpscaleError('bad_upscaler_file', `${what}: tensor ${key} is missing`);
  if (s.length !== shape.length || s.some((d, i) => d !== shape[i])) {
    throw new UpscaleError('unsupported_upscaler', `${what}: ${key} has shape [${s.join(',')}], this network needs [${shape.join(',')}]`);
  }
}

function conv(t: ReadonlyMap<string, LazyTensor>, key: string, out: number, inp: number, k: number, what: string, bias = true): void {
  expectShape(t, `${key}.weight`, [out, inp, k, k], what);
  if (bias) expectShape(t, `${key}.bias`, [out], what);
}

function loadEsrgan(src: ReadonlyMap<string, LazyTensor>): EsrganSpec {
  const what = 'ESRGAN (RRDBNet)';
  const t = toOldEsrganKeys(src);
  const len = seqLen(t.keys(), 'model');
  const first = shapeOf(t, 'model.0.weight', what, 4);
  const inNcRaw = first[1]!;
  const nf = first[0]!;
  const outNc = shapeOf(t, `model.${len - 1}.weight`, what, 4)[0]!;
  const upconvs = Math.floor((len - 5) / 3);
  if (upconvs < 0 || len !== 3 * upconvs + 5) {
    throw new UpscaleError('unsupported_upscaler', `${what}: ${len} top-level layers do not make an up-convolution RRDBNet (pixel-shuffle or ×3 variant?)`);
  }
  const nb = seqLen(t.keys(), 'model.1.sub') - 1;
  if (nb < 1) throw new UpscaleError('bad_upscaler_file', `${what}: no RRDB blocks found`);
  const plus = [...t.keys()].some((k) => k.includes('.conv1x1.'));
  let shuffle: 0 | 2 | 4 = 0;
  if (inNcRaw === outNc * 4) shuffle = 2;
  else if (inNcRaw === outNc * 16) shuffle = 4;
  const gc = shapeOf(t, 'model.1.sub.0.RDB1.conv1.0.weight', what, 4)[0]!;
  if (gc !== GROWTH_CHANNELS) {
    throw new UpscaleError('unsupported_upscaler', `${what} with ${gc} growth channels: only ${GROWTH_CHANNELS} is supported (as in spandrel 0.3.4, which A1111 uses)`);
  }
  // Every tensor the network needs, with its shape: a file that does not fit is refused up front.
  conv(t, 'model.0', nf, inNcRaw, 3, what);
  for (let i = 0; i < nb; i++) {
    for (let j = 1; j <= 3; j++) {
      const p = `model.1.sub.${i}.RDB${j}`;
      for (let k = 1; k <= 5; k++) conv(t, `${p}.conv${k}.0`, k === 5 ? nf : gc, nf + (k - 1) * gc, 3, what);
      if (plus) conv(t, `${p}.conv1x1`, gc, nf, 1, what, false);
    }
  }
  conv(t, `model.1.sub.${nb}`, nf, nf, 3, what);
  for (let n = 1; n <= upconvs; n++) conv(t, `model.${3 * n}`, nf, nf, 3, what);
  conv(t, `model.${3 * upconvs + 2}`, nf, nf, 3, what);
  conv(t, `model.${3 * upconvs + 4}`, outNc, nf, 3, what);
  const internal = 2 ** upconvs;
  // spandrel divides with floor: an unshuffle deeper than the up-convolutions has no valid scale.
  const scale = shuffle ? Math.floor(internal / shuffle) : internal;
  if (scale < 1) throw new UpscaleError('unsupported_upscaler', `${what}: pixel-unshuffle ${shuffle} with only ${upconvs} up-convolutions`);
  return {
    arch: 'ESRGAN',
    inChannels: shuffle ? inNcRaw / (shuffle * shuffle) : inNcRaw,
    outChannels: outNc,
    numFilters: nf,
    numBlocks: nb,
    upconvs,
    shuffle,
    plus,
    scale,
    size: shuffle ? { minimum: 4, multipleOf: 4 } : { minimum: 2, multipleOf: 1 },
    tensors: t,
  };
}

function loadCompact(t: ReadonlyMap<string, LazyTensor>): CompactSpec {
  const what = 'RealESRGAN Compact (SRVGGNetCompact)';
  const first = shapeOf(t, 'body.0.weight', what, 4);
  const nf = first[0]!;
  const inNc = first[1]!;
  const last = seqLen(t.keys(), 'body') - 1;
  const numConv = (last - 2) / 2;
  if (!Number.isInteger(numConv) || numConv < 0) throw new UpscaleError('unsupported_upscaler', `${what}: body has ${last + 1} layers, not 2·num_conv + 3`);
  const channels = shapeOf(t, `body.${last}.weight`, what, 4)[0]!;
  let outNc = 0, scale = 0;
  for (const c of [inNc, 3, 4, 1]) {
    const s = Math.round(Math.sqrt(channels / c));
    if (channels % c === 0 && s * s === channels / c) {
      outNc = c;
      scale = s;
      break;
    }
  }
  if (!outNc) throw new UpscaleError('unsupported_upscaler', `${what}: last layer has ${channels} channels, not out_nc·scale²`);
  conv(t, 'body.0', nf, inNc, 3, what);
  expectShape(t, 'body.1.weight', [nf], what);
  for (let i = 1; i <= numConv; i++) {
    conv(t, `body.${2 * i}`, nf, nf, 3, what);
    expectShape(t, `body.${2 * i + 1}.weight`, [nf], what);
  }
  conv(t, `body.${last}`, channels, nf, 3, what);
  return { arch: 'Compact', inChannels: inNc, outChannels: outNc, numFilters: nf, numConv, scale, size: { minimum: 0, multipleOf: 1 }, tensors: t };
}

/** Key signatures of the other architectures spandrel knows, to say what a refused file looks like. */
const LOOKALIKES: ReadonlyArray<[string, (keys: readonly string[]) => boolean]> = [
  ['HAT', (k) => k.some((x) => x.includes('relative_position_index_SA') || x.includes('.conv_block.cab.'))],
  ['DAT', (k) => k.some((x) => /^layers\.\d+\.blocks\.\d+\.attn\.attns\./.test(x))],
  ['SRFormer', (k) => k.some((x) => x.includes('aligned_relative_position_index'))],
  ['Swin2SR', (k) => k.some((x) => x.includes('.residual_group.blocks.')) && k.some((x) => x.includes('.logit_scale'))],
  ['SwinIR', (k) => k.some((x) => x.includes('.residual_group.blocks.'))],
  ['DRCT', (k) => k.some((x) => /^layers\.\d+\.swin\d\./.test(x))],
  ['ATD', (k) => k.some((x) => x.includes('.attn_atd.') || x.includes('.attn_aca.'))],
  ['RGT', (k) => k.some((x) => x.includes('.attn.attns.') || x.includes('layers.0.blocks.0.attn.qkv'))],
  ['SPAN', (k) => k.includes('block_1.c1_r.sk.weight') || k.some((x) => /^block_\d+\.c1_r\./.test(x))],
  ['OmniSR', (k) => k.some((x) => x.startsWith('residual_layer.'))],
  ['RealCUGAN', (k) => k.some((x) => x.startsWith('unet1.'))],
  ['SCUNet', (k) => k.some((x) => x.startsWith('m_head.'))],
  ['GFPGAN', (k) => k.some((x) => x.startsWith('stylegan_decoder.') || x.startsWith('toRGB.'))],
  ['CodeFormer', (k) => k.some((x) => x.startsWith('quantize.embedding'))],
  ['RestoreFormer', (k) => k.some((x) => x.includes('.quantize.'))],
  ['NAFNet', (k) => k.includes('intro.weight') && k.includes('ending.weight')],
  ['SAFMN', (k) => k.includes('to_feat.weight')],
  ['PLKSR', (k) => k.some((x) => /^feats\.\d+\./.test(x))],
  ['LaMa', (k) => k.some((x) => x.includes('model.model.1.bn_l'))],
  ['DnCNN/FBCNN', (k) => k.includes('model.0.weight') && !k.some((x) => x.startsWith('model.1.sub.'))],
  ['Stable Diffusion checkpoint', (k) => k.some((x) => x.startsWith('model.diffusion_model.'))],
];

/** What a state dict looks like, for the refusal message. */
export function describeArchitecture(keys: readonly string[]): string {
  for (const [name, test] of LOOKALIKES) if (test(keys)) return name;
  if (keys.length === 0) return 'a file with no tensors';
  return `an unknown architecture (first keys: ${keys.slice(0, 3).join(', ')})`;
}

/**
 * Detects the architecture of a canonical state dict and reads its hyperparameters.
 * Throws `unsupported_upscaler` for other architectures, `bad_upscaler_file` for incomplete ones.
 */
export function detectUpscaler(sd: UpscalerStateDict, label = 'upscaler'): UpscalerSpec {
  const t = sd.tensors;
  try {
    if (has(t, 'body.0.weight', 'body.1.weight')) return loadCompact(t);
    if (isEsrgan(t)) return loadEsrgan(t);
  } catch (err) {
    if (err instanceof UpscaleError) err.message = `${label}: ${err.message}`;
    throw err;
  }
  const looks = describeArchitecture([...t.keys()]);
  throw new UpscaleError(
    'unsupported_upscaler',
    `${label} looks like ${looks}; supported upscalers are ESRGAN/Real-ESRGAN (RRDBNet) and RealESRGAN Compact (SRVGGNetCompact)`,
  );
}
