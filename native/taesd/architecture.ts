// The TAESD decoder (madebyollin/taesd, taesd.py `Decoder`) as a list of layers, indexed as in the
// original nn.Sequential, which is also the key layout of `taesd_decoder.pth` /
// `taesd_decoder.safetensors` (`1.weight`, `3.conv.0.weight`, ...):
//
//   0 Clamp (tanh(x/3)·3)  1 conv(4→C) 2 ReLU  3-5 Block  6 Upsample×2  7 conv(C→C, no bias)
//   8-10 Block  11 Upsample  12 conv  13-15 Block  16 Upsample  17 conv  18 Block  19 conv(C→3)
//
// Block = ReLU(conv3(ReLU(conv2(ReLU(conv1(x))))) + x) (3×3 convs, skip is the identity when
// in = out, which holds for every decoder block). Diffusers' AutoencoderTiny keeps the same layers
// without the Clamp in `decoder.layers`, so its index is the original's minus one.

export type TaesdLayer =
  | { kind: 'clamp'; index: number }
  | { kind: 'conv'; index: number; bias: boolean; out: 'channels' | 'rgb' }
  | { kind: 'relu'; index: number }
  | { kind: 'block'; index: number }
  | { kind: 'upsample'; index: number };

function build(): TaesdLayer[] {
  const layers: TaesdLayer[] = [{ kind: 'clamp', index: 0 }, { kind: 'conv', index: 1, bias: true, out: 'channels' }, { kind: 'relu', index: 2 }];
  let i = 3;
  for (let stage = 0; stage < 3; stage++) {
    for (let b = 0; b < 3; b++) layers.push({ kind: 'block', index: i++ });
    layers.push({ kind: 'upsample', index: i++ });
    layers.push({ kind: 'conv', index: i++, bias: false, out: 'channels' });
  }
  layers.push({ kind: 'block', index: i++ });
  layers.push({ kind: 'conv', index: i, bias: true, out: 'rgb' });
  return layers;
}

export const TAESD_DECODER_LAYERS: readonly TaesdLayer[] = build();

/** The three convs of a Block, by their index inside `Block.conv` (a Sequential with ReLUs between). */
export const BLOCK_CONVS = [0, 2, 4] as const;

/** Every tensor the decoder needs (original layout) with its shape, for `channels` C and `latent` input channels. */
export function decoderTensorShapes(channels: number, latent: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of TAESD_DECODER_LAYERS) {
    if (l.kind === 'conv') {
      const cin = l.index === 1 ? latent : channels;
      const cout = l.out === 'rgb' ? 3 : channels;
      out.set(`${l.index}.weight`, [cout, cin, 3, 3]);
      if (l.bias) out.set(`${l.index}.bias`, [cout]);
    } else if (l.kind === 'block') {
      for (const c of BLOCK_CONVS) {
        out.set(`${l.index}.conv.${c}.weight`, [channels, channels, 3, 3]);
        out.set(`${l.index}.conv.${c}.bias`, [channels]);
      }
    }
  }
  return out;
}
