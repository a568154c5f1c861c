// The diffusers naming scheme -> original single-file (ldm) key names, for the three SD1
// components of a diffusers folder: `unet/`, `vae/`, `text_encoder/`. Graphs bind weights by the
// original names, so a diffusers folder loads by renaming and nothing else (one reshape: the VAE
// mid-block attention is Linear [C, C] in diffusers and a 1x1 conv [C, C, 1, 1] in ldm).
//
// UNet block indices (num_res_blocks = n, here 2; see ../shared/fixtures/sd1-tiny/README.md §11):
//   down_blocks.b.resnets.j / attentions.j   -> input_blocks.(b(n+1)+j+1).0 / .1
//   down_blocks.b.downsamplers.0.conv        -> input_blocks.(b(n+1)+n+1).0.op
//   mid_block.resnets.j / attentions.0       -> middle_block.(2j) / middle_block.1
//   up_blocks.b.resnets.j / attentions.j     -> output_blocks.(b(n+1)+j).0 / .1
//   up_blocks.b.upsamplers.0.conv            -> output_blocks.(b(n+1)+n).(1, or 2 when the block has attention).conv
import { CheckpointError } from './checkpoint-error.js';
import { CLIP_L_PREFIX, UNET_PREFIX, VAE_PREFIX } from './family.js';

export type DiffusersComponent = 'unet' | 'vae' | 'text_encoder' | 'text_encoder_2';

/** Where `text_encoder/` lands: SD1's CLIP or SDXL's first embedder. */
export interface DiffusersMapOptions {
  textEncoderPrefix?: string;
}

export interface KeyMapping {
  /** Key in the diffusers component file (several for a tensor assembled from parts). */
  source: string;
  /** Parts concatenated along the first axis, in order (q, k, v → OpenCLIP in_proj). */
  sources?: string[];
  /** The source is a Linear weight [out, in] stored as a plain matrix [in, out] (OpenCLIP text_projection). */
  transpose?: boolean;
  /** Original single-file key. */
  target: string;
  /** Original shape from the diffusers shape. */
  reshape?: (shape: number[]) => number[];
}

const UNET_RESNET_PARTS: Record<string, string> = {
  norm1: 'in_layers.0',
  conv1: 'in_layers.2',
  time_emb_proj: 'emb_layers.1',
  norm2: 'out_layers.0',
  conv2: 'out_layers.3',
  conv_shortcut: 'skip_connection',
};

const VAE_ATTENTION_PARTS: Record<string, string> = {
  group_norm: 'norm',
  to_q: 'q',
  query: 'q',
  to_k: 'k',
  key: 'k',
  to_v: 'v',
  value: 'v',
  'to_out.0': 'proj_out',
  proj_attn: 'proj_out',
};

/** Maps every key of one component; any key the scheme does not know is an error. */
export function mapDiffusersKeys(component: DiffusersComponent, keys: string[], opts: DiffusersMapOptions = {}): KeyMapping[] {
  switch (component) {
    case 'unet':
      return mapUNet(keys);
    case 'vae':
      return mapVae(keys);
    case 'text_encoder':
      return keys.map((k) => {
        if (!k.startsWith('text_model.')) throw unknown('text_encoder', k);
        return { source: k, target: `${opts.textEncoderPrefix ?? CLIP_L_PREFIX}${k.slice('text_model.'.length)}` };
      });
    case 'text_encoder_2':
      return mapOpenClip(keys);
  }
}

const OPEN_CLIP_PREFIX = 'conditioner.embedders.1.model.';

/**
 * SDXL's `text_encoder_2/` (transformers CLIPTextModelWithProjection) → open_clip names: layer_norm1/2
 * → ln_1/ln_2, fc1/fc2 → c_fc/c_proj, q/k/v_proj concatenated into attn.in_proj_*, final_layer_norm →
 * ln_final, and text_projection.weight [E, W] transposed to open_clip's text_projection [W, E].
 */
function mapOpenClip(keys: string[]): KeyMapping[] {
  const out: KeyMapping[] = [];
  const have = new Set(keys);
  for (const k of keys) {
    let m: RegExpExecArray | null;
    let t: string | undefined;
    if (k === 'text_model.embeddings.position_ids') continue;
    if (k === 'text_model.embeddings.token_embedding.weight') t = 'token_embedding.weight';
    else if (k === 'text_model.embeddings.position_embedding.weight') t = 'positional_embedding';
    else if ((m = /^text_model\.final_layer_norm\.(weight|bias)$/.exec(k))) t = `ln_final.${m[1]}`;
    else if (k === 'text_projection.weight') {
      out.push({ source: k, target: `${OPEN_CLIP_PREFIX}text_projection`, transpose: true });
      continue;
    } else if ((m = /^text_model\.encoder\.layers\.(\d+)\.(.+)$/.exec(k))) {
      const rb = `transformer.resblocks.${m[1]}`;
      const rest = m[2]!;
      let r: RegExpExecArray | null;
      if ((r = /^self_attn\.q_proj\.(weight|bias)$/.exec(rest))) {
        const parts = ['q', 'k', 'v'].map((p) => `text_model.encoder.layers.${m![1]}.self_attn.${p}_proj.${r![1]}`);
        if (!parts.every((p) => have.has(p))) throw unknown('text_encoder_2', k);
        out.push({ source: parts[0]!, sources: parts, target: `${OPEN_CLIP_PREFIX}${rb}.attn.in_proj_${r[1]}` });
        continue;
      }
      if (/^self_attn\.[kv]_proj\.(weight|bias)$/.test(rest)) continue; // joined with q above
      if ((r = /^self_attn\.out_proj\.(weight|bias)$/.exec(rest))) t = `${rb}.attn.out_proj.${r[1]}`;
      else if ((r = /^layer_norm([12])\.(weight|bias)$/.exec(rest))) t = `${rb}.ln_${r[1]}.${r[2]}`;
      else if ((r = /^mlp\.fc1\.(weight|bias)$/.exec(rest))) t = `${rb}.mlp.c_fc.${r[1]}`;
      else if ((r = /^mlp\.fc2\.(weight|bias)$/.exec(rest))) t = `${rb}.mlp.c_proj.${r[1]}`;
    }
    if (!t) throw unknown('text_encoder_2', k);
    out.push({ source: k, target: `${OPEN_CLIP_PREFIX}${t}` });
  }
  return out;
}

function mapUNet(keys: string[]): KeyMapping[] {
  let n = 0;
  const upWithAttention = new Set<number>();
  for (const k of keys) {
    const r = /^down_blocks\.0\.resnets\.(\d+)\./.exec(k);
    if (r) n = Math.max(n, Number(r[1]) + 1);
    const a = /^up_blocks\.(\d+)\.attentions\./.exec(k);
    if (a) upWithAttention.add(Number(a[1]));
  }
  const per = n + 1;
  const resnet = (rest: string, k: string): string => {
    const m = /^([a-z_0-9]+)\.(weight|bias)$/.exec(rest);
    const part = m && UNET_RESNET_PARTS[m[1]];
    if (!m || !part) throw unknown('unet', k);
    return `${part}.${m[2]}`;
  };
  return keys.map((k) => {
    let m: RegExpExecArray | null;
    let t: string;
    if ((m = /^time_embedding\.linear_([12])\.(.+)$/.exec(k))) t = `time_embed.${m[1] === '1' ? 0 : 2}.${m[2]}`;
    // SDXL's ADM ("text_time") embedding
    else if ((m = /^add_embedding\.linear_([12])\.(.+)$/.exec(k))) t = `label_emb.0.${m[1] === '1' ? 0 : 2}.${m[2]}`;
    else if ((m = /^conv_in\.(.+)$/.exec(k))) t = `input_blocks.0.0.${m[1]}`;
    else if ((m = /^conv_norm_out\.(.+)$/.exec(k))) t = `out.0.${m[1]}`;
    else if ((m = /^conv_out\.(.+)$/.exec(k))) t = `out.2.${m[1]}`;
    else if ((m = /^down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(k))) t = `input_blocks.${+m[1] * per + +m[2] + 1}.0.${resnet(m[3], k)}`;
    else if ((m = /^down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/.exec(k))) t = `input_blocks.${+m[1] * per + +m[2] + 1}.1.${m[3]}`;
    else if ((m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/.exec(k))) t = `input_blocks.${+m[1] * per + n + 1}.0.op.${m[2]}`;
    else if ((m = /^mid_block\.attentions\.0\.(.+)$/.exec(k))) t = `middle_block.1.${m[1]}`;
    else if ((m = /^mid_block\.resnets\.(\d+)\.(.+)$/.exec(k))) t = `middle_block.${2 * +m[1]}.${resnet(m[2], k)}`;
    else if ((m = /^up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(k))) t = `output_blocks.${+m[1] * per + +m[2]}.0.${resnet(m[3], k)}`;
    else if ((m = /^up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/.exec(k))) t = `output_blocks.${+m[1] * per + +m[2]}.1.${m[3]}`;
    else if ((m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/.exec(k))) {
      t = `output_blocks.${+m[1] * per + n}.${upWithAttention.has(+m[1]) ? 2 : 1}.conv.${m[2]}`;
    } else throw unknown('unet', k);
    return { source: k, target: `${UNET_PREFIX}${t}` };
  });
}

function mapVae(keys: string[]): KeyMapping[] {
  let upLevels = 0;
  for (const k of keys) {
    const m = /^decoder\.up_blocks\.(\d+)\./.exec(k);
    if (m) upLevels = Math.max(upLevels, Number(m[1]) + 1);
  }
  const resnet = (rest: string): string => rest.replace(/^conv_shortcut\./, 'nin_shortcut.');
  return keys.map((k): KeyMapping => {
    let m: RegExpExecArray | null;
    let t: string;
    let reshape: KeyMapping['reshape'];
    if ((m = /^(encoder|decoder)\.(conv_in|conv_out)\.(.+)$/.exec(k))) t = `${m[1]}.${m[2]}.${m[3]}`;
    else if ((m = /^(encoder|decoder)\.conv_norm_out\.(.+)$/.exec(k))) t = `${m[1]}.norm_out.${m[2]}`;
    else if ((m = /^(quant_conv|post_quant_conv)\.(.+)$/.exec(k))) t = `${m[1]}.${m[2]}`;
    else if ((m = /^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(k))) t = `encoder.down.${m[1]}.block.${m[2]}.${resnet(m[3])}`;
    else if ((m = /^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/.exec(k))) t = `encoder.down.${m[1]}.downsample.conv.${m[2]}`;
    else if ((m = /^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(k))) t = `decoder.up.${upLevels - 1 - +m[1]}.block.${m[2]}.${resnet(m[3])}`;
    else if ((m = /^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/.exec(k))) t = `decoder.up.${upLevels - 1 - +m[1]}.upsample.conv.${m[2]}`;
    else if ((m = /^(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.+)$/.exec(k))) t = `${m[1]}.mid.block_${+m[2] + 1}.${resnet(m[3])}`;
    else if ((m = /^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|query|to_k|key|to_v|value|to_out\.0|proj_attn)\.(weight|bias)$/.exec(k))) {
      const part = VAE_ATTENTION_PARTS[m[2]];
      t = `${m[1]}.mid.attn_1.${part}.${m[3]}`;
      // diffusers stores these projections as Linear [C, C]; ldm as 1x1 conv [C, C, 1, 1]
      if (part !== 'norm' && m[3] === 'weight') reshape = (s) => (s.length === 2 ? [...s, 1, 1] : s);
    } else throw unknown('vae', k);
    return reshape ? { source: k, target: `${VAE_PREFIX}${t}`, reshape } : { source: k, target: `${VAE_PREFIX}${t}` };
  });
}

function unknown(component: DiffusersComponent, key: string): CheckpointError {
  return new CheckpointError('unknown_key', `diffusers ${component}: key "${key}" is not part of the SD1 / SDXL layout`);
}
