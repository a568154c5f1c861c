// Random-weight ControlNets in the lllyasviel layout (`control_model.` + ldm names) for tests and
// benchmarks: the encoder half of a UNet config's keys (time_embed, label_emb, input_blocks,
// middle_block), the hint block and the zero convs, initialised like random checkpoints
// (random-checkpoint.ts: no tensor is zero, so a mis-bound tensor changes the output).
import type { UNetConfig } from '../models/config.js';
import { unetKeys, type KeySpec } from '../models/key-spec.js';
import { writeRandomCheckpoint, type RandomCheckpointOptions } from '../models/random-checkpoint.js';
import { controlNetResidualCount } from './controlnet-graph.js';

const HINT_CHANNELS = [16, 16, 32, 32, 96, 96, 256];

/** The keys and shapes of a ControlNet for `unet` (the control_v11p_sd15 topology for SD15_CONFIG.unet). */
export function controlNetKeySpec(unet: UNetConfig, hintChannels = 3): KeySpec[] {
  const out: KeySpec[] = [];
  const emit = (key: string, shape: number[]) => out.push({ key: `control_model.${key}`, shape, dtype: 'F32' });
  unetKeys(unet, (key, shape) => {
    if (/^(time_embed|label_emb|input_blocks|middle_block)\./.test(key)) emit(key, shape);
  });
  let cin = hintChannels;
  [...HINT_CHANNELS, unet.model_channels].forEach((cout, j) => {
    emit(`input_hint_block.${2 * j}.weight`, [cout, cin, 3, 3]);
    emit(`input_hint_block.${2 * j}.bias`, [cout]);
    cin = cout;
  });
  // zero_convs follow the input blocks' widths; the middle block keeps the last one.
  const widths: number[] = [unet.model_channels];
  unet.channel_mult.forEach((mult, level) => {
    for (let r = 0; r < unet.num_res_blocks; r++) widths.push(mult * unet.model_channels);
    if (level !== unet.channel_mult.length - 1) widths.push(mult * unet.model_channels);
  });
  widths.forEach((c, i) => {
    emit(`zero_convs.${i}.0.weight`, [c, c, 1, 1]);
    emit(`zero_convs.${i}.0.bias`, [c]);
  });
  const last = widths[widths.length - 1]!;
  emit('middle_block_out.0.weight', [last, last, 1, 1]);
  emit('middle_block_out.0.bias', [last]);
  if (widths.length + 1 !== controlNetResidualCount({ family: 'sd1', unet, hint_channels: hintChannels, global_average_pooling: false })) {
    throw new Error('ControlNet key spec: zero conv count does not match the graph');
  }
  return out;
}

/** Writes a random ControlNet for `unet` to `path`; returns the bytes of tensor data. */
export function writeRandomControlNet(path: string, unet: UNetConfig, opts: RandomCheckpointOptions = {}): Promise<number> {
  return writeRandomCheckpoint(path, controlNetKeySpec(unet), opts);
}
