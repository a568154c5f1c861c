// Opening a ControlNet model file from `$MODELS_DIR/controlnet/`, in any layout the extension
// loads a plain ControlNet from: lllyasviel `.safetensors` / `.pth` (`control_model.` + ldm names;
// the prefix is optional), or the diffusers ControlNetModel (a single `.safetensors` file, or a
// folder with `config.json` + `diffusion_pytorch_model[.fp16].safetensors`), whose names are mapped
// to ldm names (controlnet-keys.ts). F16/BF16 tensors are read as float32 and the graph converts
// them to the UNet's precision, as the extension upcasts to the UNet dtype.
// The config (the encoder half of the UNet) comes from the tensor shapes, as for checkpoints.
// Other control models — T2I-Adapter, control-LoRA, IP-Adapter, ControlNet++ union, SparseCtrl,
// ControlLLLite, "difference" ControlNets, SD2.x ControlNets — are refused with
// `unsupported_controlnet` naming the file and what it is.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { SafetensorsFile, type DType } from '../io/safetensors.js';
import { openTorchFile, stateDictTensors } from '../io/torch-file.js';
import type { UNetConfig } from '../models/config.js';
import { UNET_PREFIX } from '../models/family.js';
import { inferUNetFromShapes } from '../models/infer-config.js';
import type { WeightSource } from '../runtime/weights.js';
import { ControlNetError } from './controlnet-error.js';
import { DIFFUSERS_CONTROLNET_MARKER, mapDiffusersControlNetKeys } from './controlnet-keys.js';

/** Families a ControlNet can be made for (the checkpoint's must match). */
export type ControlNetFamily = 'sd1' | 'sdxl';

export interface ControlNetConfig {
  family: ControlNetFamily;
  /** The encoder copy: the UNet config of the model it was trained on (out_channels = in_channels). */
  unet: UNetConfig;
  /** Channels of the hint image (3: RGB). */
  hint_channels: number;
  /** "shuffle" ControlNets: residuals averaged over H×W and cfg injection (the extension keys this on the file name). */
  global_average_pooling: boolean;
}

export type ControlNetLayout = 'ldm' | 'diffusers';

/** An open ControlNet: its config and its tensors under ldm names without `control_model.`. */
export interface ControlNetFile extends WeightSource {
  readonly path: string;
  /** File (or folder) name without extension: the name A1111 lists and writes in infotexts. */
  readonly name: string;
  readonly layout: ControlNetLayout;
  readonly config: ControlNetConfig;
  /** The cldm config JSON a tiny fixture file declares in its `__metadata__` (informational). */
  readonly metadataConfig?: string;
  keys(): string[];
  dtype(key: string): DType | undefined;
  close(): Promise<void>;
}

/** File extensions listed as ControlNets in `$MODELS_DIR/controlnet/`. */
export const CONTROLNET_EXTENSIONS = ['.safetensors', '.pth', '.pt', '.ckpt', '.bin'] as const;
const PICKLE_EXTENSIONS = new Set(['.pth', '.pt', '.ckpt', '.bin']);
const DIFFUSERS_FILES = ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors', 'diffusion_pytorch_model.bin'];
const LDM_PREFIX = 'control_model.';

interface Source {
  dtype: DType;
  shape: number[];
  read: () => Promise<Float32Array>;
}

interface Closable {
  close(): Promise<void>;
}

/** The display name: file name without extension (folders keep their name). */
export function controlNetName(path: string): string {
  const base = basename(path);
  const ext = extname(base).toLowerCase();
  return (CONTROLNET_EXTENSIONS as readonly string[]).includes(ext) ? base.slice(0, base.length - ext.length) : base;
}

async function openRaw(path: string): Promise<{ sources: Map<string, Source>; files: Closable[]; metadata: Record<string, string> }> {
  let file = path;
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new ControlNetError('controlnet_not_found', `ControlNet file not found: ${path}`);
  }
  if (isDir) {
    const name = DIFFUSERS_FILES.find((f) => existsSync(join(path, f)));
    if (!name || !existsSync(join(path, 'config.json'))) {
      throw new ControlNetError('unsupported_controlnet', `${path}: a ControlNet folder needs config.json and ${DIFFUSERS_FILES[0]}`);
    }
    file = join(path, name);
  }
  const sources = new Map<string, Source>();
  if (PICKLE_EXTENSIONS.has(extname(file).toLowerCase())) {
    const torch = await openTorchFile(file);
    for (const [key, t] of stateDictTensors(torch.root)) sources.set(key, { dtype: t.dtype, shape: [...t.shape], read: () => t.toFloat32() });
    return { sources, files: [torch], metadata: {} };
  }
  const st = await SafetensorsFile.open(file);
  for (const key of st.keys()) {
    const info = st.info(key)!;
    sources.set(key, { dtype: info.dtype, shape: info.shape, read: () => st.readFloat32(key) });
  }
  return { sources, files: [st], metadata: st.metadata };
}

/** What a state dict that is not a plain ControlNet is, in the extension's order of tests; undefined = a ControlNet. */
function otherKind(keys: readonly string[]): string | undefined {
  const has = (k: string) => keys.includes(k);
  const some = (re: RegExp) => keys.some((k) => re.test(k));
  if (has('lora_controlnet')) return 'a control-LoRA (Stability "control-lora")';
  if (some(/motion_modules\./)) return 'a SparseCtrl model';
  if (some(/^image_proj\./) || some(/^ip_adapter\./) || has('ip_adapter')) return 'an IP-Adapter';
  if (some(/^adapter\./) || has('conv_in.weight') && !has('input_hint_block.0.weight') && !has(DIFFUSERS_CONTROLNET_MARKER)) return 'a T2I-Adapter';
  if (has('style_embedding') || has('body.0.in_conv.weight')) return 'a T2I-Adapter';
  if (some(/lllite/)) return 'a ControlLLLite model';
  if (has('control_add_embedding.linear_1.bias') || has('task_embedding')) return 'a ControlNet++ union model';
  if (has('difference')) return 'a "difference" ControlNet (needs the UNet it was made from)';
  if (!has('input_hint_block.0.weight')) return 'not a ControlNet (no input_hint_block)';
  return undefined;
}

/**
 * Opens a ControlNet file or diffusers folder.
 *
 * @example const cn = await openControlNet('models/controlnet/control_v11p_sd15_canny.pth'); cn.config.unet.model_channels // 320
 */
export async function openControlNet(path: string): Promise<ControlNetFile> {
  const { sources: raw, files, metadata } = await openRaw(path);
  try {
    const sources = new Map<string, Source>();
    let layout: ControlNetLayout = 'ldm';
    const rawKeys = [...raw.keys()].map((k) => (k.startsWith(LDM_PREFIX) ? k.slice(LDM_PREFIX.length) : k));
    if (rawKeys.includes(DIFFUSERS_CONTROLNET_MARKER)) {
      layout = 'diffusers';
      const byStripped = new Map([...raw].map(([k, v]) => [k.startsWith(LDM_PREFIX) ? k.slice(LDM_PREFIX.length) : k, v]));
      let mapped;
      try {
        mapped = mapDiffusersControlNetKeys([...byStripped.keys()]);
      } catch (err) {
        throw new ControlNetError('unsupported_controlnet', `${path}: ${(err as Error).message}`);
      }
      for (const m of mapped) sources.set(m.target, byStripped.get(m.source)!);
    } else {
      for (const [k, v] of raw) sources.set(k.startsWith(LDM_PREFIX) ? k.slice(LDM_PREFIX.length) : k, v);
    }
    const what = otherKind([...sources.keys()]);
    if (what) throw new ControlNetError('unsupported_controlnet', `${path}: this is ${what}; Easel runs SD 1.x and SDXL ControlNets`);
    const config = inferControlNetConfig((k) => sources.get(k)?.shape, path);
    const name = controlNetName(path);
    config.global_average_pooling = name.toLowerCase().includes('shuffle');
    const keys = [...sources.keys()];
    const src = sources;
    return {
      path,
      name,
      layout,
      config,
      metadataConfig: metadata['sd_tiny_controlnet.config'],
      keys: () => keys.slice(),
      shape: (k) => src.get(k)?.shape.slice(),
      dtype: (k) => src.get(k)?.dtype,
      readFloat32: (k) => {
        const s = src.get(k);
        if (!s) return Promise.reject(new ControlNetError('unsupported_controlnet', `${path}: no tensor "${k}"`));
        return s.read();
      },
      close: async () => {
        await Promise.all(files.map((f) => f.close()));
      },
    };
  } catch (err) {
    await Promise.all(files.map((f) => f.close()));
    throw err;
  }
}

/**
 * The ControlNet's structure from its shapes (ldm names, no prefix): the UNet inference of
 * infer-config.ts over the encoder half, with the extension's head settings (SD1: 8 heads;
 * SDXL: 64-channel heads). SD2.x ControlNets (context 1024) are refused.
 */
export function inferControlNetConfig(shape: (key: string) => number[] | undefined, path = 'ControlNet'): ControlNetConfig {
  const conv = shape('input_blocks.0.0.weight');
  const hint = shape('input_hint_block.0.weight');
  if (!conv || !hint) throw new ControlNetError('unsupported_controlnet', `${path}: not a ControlNet (input_blocks.0.0 or input_hint_block.0 missing)`);
  // inferUNetFromShapes reads `model.diffusion_model.*` and the output conv, which a ControlNet lacks.
  const unetShape = (k: string): number[] | undefined => {
    if (!k.startsWith(UNET_PREFIX)) return undefined;
    const bare = k.slice(UNET_PREFIX.length);
    if (bare === 'out.2.weight') return [conv[1]!, conv[0]!, 3, 3];
    return shape(bare);
  };
  let unet: UNetConfig;
  try {
    unet = inferUNetFromShapes(unetShape).config;
  } catch (err) {
    throw new ControlNetError('unsupported_controlnet', `${path}: cannot read the ControlNet structure: ${(err as Error).message}`);
  }
  const sdxl = unet.adm_in_channels !== undefined;
  if (!sdxl && unet.context_dim === 1024) {
    throw new ControlNetError('unsupported_controlnet', `${path}: this is an SD 2.x ControlNet (context 1024); Easel runs SD 1.x and SDXL ControlNets`);
  }
  if (hint[1] !== 3) throw new ControlNetError('unsupported_controlnet', `${path}: hint with ${hint[1]} channels is not supported (RGB hints only)`);
  if (sdxl) {
    unet.num_head_channels = 64;
    if (!shape('middle_block.1.norm.weight')) {
      throw new ControlNetError('unsupported_controlnet', `${path}: SDXL ControlNets without a middle transformer ("small") are not supported`);
    }
  }
  if (!shape('middle_block_out.0.weight')) throw new ControlNetError('unsupported_controlnet', `${path}: middle_block_out missing`);
  return { family: sdxl ? 'sdxl' : 'sd1', unet, hint_channels: hint[1]!, global_average_pooling: false };
}
