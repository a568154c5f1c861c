// Test helper: writes a diffusers folder (unet/, vae/, text_encoder/, [text_encoder_2/,] tokenizer/,
// scheduler/) from an original single-file SD1 or SDXL checkpoint by the inverse of keys-diffusers.ts, written
// independently here so the round trip checks the mapping rather than restating it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensorsStreamed, type TensorSpec } from '../../io/safetensors.js';

const RESNET_INV: Record<string, string> = {
  'in_layers.0': 'norm1',
  'in_layers.2': 'conv1',
  'emb_layers.1': 'time_emb_proj',
  'out_layers.0': 'norm2',
  'out_layers.3': 'conv2',
  skip_connection: 'conv_shortcut',
};

function unetToDiffusers(k: string): string {
  const resnet = (rest: string) => {
    const part = Object.keys(RESNET_INV).find((p) => rest.startsWith(`${p}.`))!;
    return `${RESNET_INV[part]}${rest.slice(part.length)}`;
  };
  let m: RegExpExecArray | null;
  if ((m = /^time_embed\.0\.(.+)$/.exec(k))) return `time_embedding.linear_1.${m[1]}`;
  if ((m = /^time_embed\.2\.(.+)$/.exec(k))) return `time_embedding.linear_2.${m[1]}`;
  if ((m = /^label_emb\.0\.([02])\.(.+)$/.exec(k))) return `add_embedding.linear_${m[1] === '0' ? 1 : 2}.${m[2]}`;
  if ((m = /^input_blocks\.0\.0\.(.+)$/.exec(k))) return `conv_in.${m[1]}`;
  if ((m = /^out\.0\.(.+)$/.exec(k))) return `conv_norm_out.${m[1]}`;
  if ((m = /^out\.2\.(.+)$/.exec(k))) return `conv_out.${m[1]}`;
  if ((m = /^input_blocks\.(\d+)\.0\.op\.(.+)$/.exec(k))) return `down_blocks.${+m[1] / 3 - 1}.downsamplers.0.conv.${m[2]}`;
  if ((m = /^input_blocks\.(\d+)\.0\.(.+)$/.exec(k))) return `down_blocks.${Math.floor((+m[1] - 1) / 3)}.resnets.${(+m[1] - 1) % 3}.${resnet(m[2])}`;
  if ((m = /^input_blocks\.(\d+)\.1\.(.+)$/.exec(k))) return `down_blocks.${Math.floor((+m[1] - 1) / 3)}.attentions.${(+m[1] - 1) % 3}.${m[2]}`;
  if ((m = /^middle_block\.([02])\.(.+)$/.exec(k))) return `mid_block.resnets.${+m[1] / 2}.${resnet(m[2])}`;
  if ((m = /^middle_block\.1\.(.+)$/.exec(k))) return `mid_block.attentions.0.${m[1]}`;
  if ((m = /^output_blocks\.(\d+)\.0\.(.+)$/.exec(k))) return `up_blocks.${Math.floor(+m[1] / 3)}.resnets.${+m[1] % 3}.${resnet(m[2])}`;
  if ((m = /^output_blocks\.(\d+)\.[12]\.conv\.(.+)$/.exec(k))) return `up_blocks.${Math.floor(+m[1] / 3)}.upsamplers.0.conv.${m[2]}`;
  if ((m = /^output_blocks\.(\d+)\.1\.(.+)$/.exec(k))) return `up_blocks.${Math.floor(+m[1] / 3)}.attentions.${+m[1] % 3}.${m[2]}`;
  throw new Error(`test inverse mapping: unhandled UNet key ${k}`);
}

// The encoder uses today's diffusers attention names, the decoder the older ones, so both load.
const ATTN_INV: Record<string, Record<string, string>> = {
  encoder: { norm: 'group_norm', q: 'to_q', k: 'to_k', v: 'to_v', proj_out: 'to_out.0' },
  decoder: { norm: 'group_norm', q: 'query', k: 'key', v: 'value', proj_out: 'proj_attn' },
};

function vaeToDiffusers(k: string, levels: number): { key: string; squeeze: boolean } {
  const shortcut = (s: string) => s.replace(/^nin_shortcut\./, 'conv_shortcut.');
  let m: RegExpExecArray | null;
  if ((m = /^(encoder|decoder)\.norm_out\.(.+)$/.exec(k))) return { key: `${m[1]}.conv_norm_out.${m[2]}`, squeeze: false };
  if ((m = /^encoder\.down\.(\d+)\.block\.(\d+)\.(.+)$/.exec(k))) return { key: `encoder.down_blocks.${m[1]}.resnets.${m[2]}.${shortcut(m[3])}`, squeeze: false };
  if ((m = /^encoder\.down\.(\d+)\.downsample\.conv\.(.+)$/.exec(k))) return { key: `encoder.down_blocks.${m[1]}.downsamplers.0.conv.${m[2]}`, squeeze: false };
  if ((m = /^decoder\.up\.(\d+)\.block\.(\d+)\.(.+)$/.exec(k))) return { key: `decoder.up_blocks.${levels - 1 - +m[1]}.resnets.${m[2]}.${shortcut(m[3])}`, squeeze: false };
  if ((m = /^decoder\.up\.(\d+)\.upsample\.conv\.(.+)$/.exec(k))) return { key: `decoder.up_blocks.${levels - 1 - +m[1]}.upsamplers.0.conv.${m[2]}`, squeeze: false };
  if ((m = /^(encoder|decoder)\.mid\.block_([12])\.(.+)$/.exec(k))) return { key: `${m[1]}.mid_block.resnets.${+m[2] - 1}.${shortcut(m[3])}`, squeeze: false };
  if ((m = /^(encoder|decoder)\.mid\.attn_1\.([a-z_]+)\.(weight|bias)$/.exec(k))) {
    return { key: `${m[1]}.mid_block.attentions.0.${ATTN_INV[m[1]][m[2]]}.${m[3]}`, squeeze: m[2] !== 'norm' && m[3] === 'weight' };
  }
  if (/^(encoder\.|decoder\.|quant_conv\.|post_quant_conv\.)/.test(k)) return { key: k, squeeze: false };
  throw new Error(`test inverse mapping: unhandled VAE key ${k}`);
}

/** SDXL OpenCLIP (open_clip names) → transformers CLIPTextModelWithProjection names; q/k/v split. */
function openClipToDiffusers(k: string): { names: string[]; transpose?: boolean } | undefined {
  let m: RegExpExecArray | null;
  if (k === 'token_embedding.weight') return { names: ['text_model.embeddings.token_embedding.weight'] };
  if (k === 'positional_embedding') return { names: ['text_model.embeddings.position_embedding.weight'] };
  if (k === 'text_projection') return { names: ['text_projection.weight'], transpose: true };
  if (k === 'logit_scale') return undefined;
  if ((m = /^ln_final\.(.+)$/.exec(k))) return { names: [`text_model.final_layer_norm.${m[1]}`] };
  if ((m = /^transformer\.resblocks\.(\d+)\.(.+)$/.exec(k))) {
    const l = `text_model.encoder.layers.${m[1]}`;
    const rest = m[2]!;
    let r: RegExpExecArray | null;
    if ((r = /^attn\.in_proj_(weight|bias)$/.exec(rest))) return { names: ['q', 'k', 'v'].map((p) => `${l}.self_attn.${p}_proj.${r![1]}`) };
    if ((r = /^attn\.out_proj\.(.+)$/.exec(rest))) return { names: [`${l}.self_attn.out_proj.${r[1]}`] };
    if ((r = /^ln_([12])\.(.+)$/.exec(rest))) return { names: [`${l}.layer_norm${r[1]}.${r[2]}`] };
    if ((r = /^mlp\.c_fc\.(.+)$/.exec(rest))) return { names: [`${l}.mlp.fc1.${r[1]}`] };
    if ((r = /^mlp\.c_proj\.(.+)$/.exec(rest))) return { names: [`${l}.mlp.fc2.${r[1]}`] };
  }
  throw new Error(`test inverse mapping: unhandled OpenCLIP key ${k}`);
}

/** Bytes of a 2-D tensor with its axes swapped (element size from the dtype). */
function transposeBytes(bytes: Uint8Array, rows: number, cols: number): Uint8Array {
  const size = bytes.length / (rows * cols);
  const out = new Uint8Array(bytes.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out.set(bytes.subarray((r * cols + c) * size, (r * cols + c + 1) * size), (c * rows + r) * size);
  return out;
}

export interface DiffusersFolderOptions {
  /** Write the VAE as `diffusion_pytorch_model.fp16.safetensors` (name only; data stays F32). */
  vaeVariantName?: boolean;
  schedulerConfig?: Record<string, unknown>;
  unetConfig?: Record<string, unknown>;
  textEncoderConfig?: Record<string, unknown>;
  /** SDXL sources: config.json of text_encoder_2/. */
  textEncoder2Config?: Record<string, unknown>;
  vaeConfig?: Record<string, unknown>;
}

export async function writeDiffusersFolder(singleFile: string, dir: string, opts: DiffusersFolderOptions = {}): Promise<void> {
  const src = await SafetensorsFile.open(singleFile);
  try {
    const levels = 1 + Math.max(...src.keys().map((k) => /^first_stage_model\.decoder\.up\.(\d+)\./.exec(k)).filter((m) => m !== null).map((m) => Number(m[1])));
    type Entry = { spec: TensorSpec; source: string; bytes?: (b: Uint8Array) => Uint8Array };
    const parts: Record<string, { file: string; entries: Entry[]; config?: Record<string, unknown> }> = {
      unet: { file: 'diffusion_pytorch_model.safetensors', entries: [], config: opts.unetConfig },
      vae: { file: opts.vaeVariantName ? 'diffusion_pytorch_model.fp16.safetensors' : 'diffusion_pytorch_model.safetensors', entries: [], config: opts.vaeConfig },
      text_encoder: { file: 'model.safetensors', entries: [], config: opts.textEncoderConfig },
    };
    const sdxl = src.keys().some((k) => k.startsWith('conditioner.'));
    if (sdxl) parts.text_encoder_2 = { file: 'model.safetensors', entries: [], config: opts.textEncoder2Config };
    for (const key of src.keys()) {
      const info = src.info(key)!;
      if (key.startsWith('model.diffusion_model.')) {
        parts.unet.entries.push({ spec: { name: unetToDiffusers(key.slice('model.diffusion_model.'.length)), dtype: info.dtype, shape: info.shape }, source: key });
      } else if (key.startsWith('first_stage_model.')) {
        const { key: name, squeeze } = vaeToDiffusers(key.slice('first_stage_model.'.length), levels);
        parts.vae.entries.push({ spec: { name, dtype: info.dtype, shape: squeeze ? info.shape.slice(0, 2) : info.shape }, source: key });
      } else if (key.startsWith('cond_stage_model.transformer.') || key.startsWith('conditioner.embedders.0.transformer.')) {
        if (key.endsWith('position_ids')) continue; // newer transformers do not save it
        const name = key.slice(key.indexOf('transformer.') + 'transformer.'.length);
        parts.text_encoder.entries.push({ spec: { name, dtype: info.dtype, shape: info.shape }, source: key });
      } else if (key.startsWith('conditioner.embedders.1.model.')) {
        const mapped = openClipToDiffusers(key.slice('conditioner.embedders.1.model.'.length));
        if (!mapped) continue;
        const [rows, cols] = info.shape as [number, number];
        if (mapped.transpose) {
          parts.text_encoder_2!.entries.push({ spec: { name: mapped.names[0]!, dtype: info.dtype, shape: [cols, rows] }, source: key, bytes: (b) => transposeBytes(b, rows, cols) });
        } else if (mapped.names.length === 3) {
          mapped.names.forEach((name, i) => {
            const shape = [info.shape[0]! / 3, ...info.shape.slice(1)];
            parts.text_encoder_2!.entries.push({ spec: { name, dtype: info.dtype, shape }, source: key, bytes: (b) => b.slice((i * b.length) / 3, ((i + 1) * b.length) / 3) });
          });
        } else parts.text_encoder_2!.entries.push({ spec: { name: mapped.names[0]!, dtype: info.dtype, shape: info.shape }, source: key });
      }
      // schedule buffers: diffusers keeps only scheduler_config.json
    }
    for (const [component, part] of Object.entries(parts)) {
      await mkdir(join(dir, component), { recursive: true });
      await writeSafetensorsStreamed(
        join(dir, component, part.file),
        part.entries.map((e) => e.spec),
        async (_s, i) => {
          const e = part.entries[i]!;
          const raw = await src.readBytes(e.source);
          return e.bytes ? e.bytes(raw) : raw;
        },
        { format: 'pt' },
      );
      if (part.config) await writeFile(join(dir, component, 'config.json'), JSON.stringify(part.config));
    }
    await mkdir(join(dir, 'tokenizer'), { recursive: true });
    await writeFile(join(dir, 'tokenizer', 'vocab.json'), '{}');
    await mkdir(join(dir, 'scheduler'), { recursive: true });
    await writeFile(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify(opts.schedulerConfig ?? { beta_start: 0.00085, beta_end: 0.012, num_train_timesteps: 1000, prediction_type: 'epsilon' }));
    await writeFile(join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionPipeline' }));
  } finally {
    await src.close();
  }
}
