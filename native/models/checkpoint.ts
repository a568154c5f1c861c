// Opening a checkpoint: a single .safetensors file (keys used as they are, except the legacy
// CLIP naming below), a single torch file (.ckpt/.pt/.pth/.bin through the restricted reader in
// native/io/torch-file.ts; a `state_dict` wrapper is unwrapped) or a diffusers folder
// (unet/, vae/, text_encoder/, tokenizer/, scheduler/; keys renamed to the original single-file
// names by keys-diffusers.ts; SDXL folders add text_encoder_2/). Either way the rest of the engine
// sees one flat set of original keys, the family, and that family's config, and reads tensors one
// at a time as float32. Families the engine does not run are refused with `unsupported_model_family`.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { SafetensorsFile, type DType } from '../io/safetensors.js';
import { openTorchFile, stateDictTensors } from '../io/torch-file.js';
import { CheckpointError } from './checkpoint-error.js';
import { CONFIG_METADATA_KEY, type ModelConfig, type SD1Config, type SDXLConfig, type SupportedFamily } from './config.js';
import { SCHEDULE_BUFFER_NAMES, ddpmScheduleBuffers } from './ddpm-schedule.js';
import { CLIP_L_PREFIX, detectFamily, type FamilyDetection, type FamilyHints } from './family.js';
import { declaredParameterization, inferSd1Config, type DeepPartial } from './infer-config.js';
import { inferSdxlConfig } from './infer-sdxl-config.js';
import { SDXL_CLIP_L_PREFIX } from './key-spec.js';
import { mapDiffusersKeys, type DiffusersComponent } from './keys-diffusers.js';
import type { ModelFamily } from './config.js';

export interface Checkpoint {
  readonly path: string;
  readonly family: SupportedFamily;
  readonly config: ModelConfig;
  /** `diffusers` folders carry their own tokenizer; single files leave this undefined. */
  readonly tokenizerDir?: string;
  /** The safetensors `__metadata__` of a single file (empty for diffusers folders). */
  readonly metadata: Record<string, string>;
  keys(): string[];
  shape(key: string): number[] | undefined;
  dtype(key: string): DType | undefined;
  readFloat32(key: string): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Config values from outside the tensors, for any family (fields of the other family are ignored). */
export type AnyOverrides = Omit<DeepPartial<SD1Config>, 'family'> & Omit<DeepPartial<SDXLConfig>, 'family'>;

export interface OpenCheckpointOptions {
  /** Config values from the user (e.g. a v-prediction flag); the checkpoint's own declared config still wins. */
  overrides?: AnyOverrides;
}

const PICKLE_EXTENSIONS = new Set(['.ckpt', '.pt', '.pth', '.bin']);

interface Closable {
  close(): Promise<void>;
}

interface Source {
  dtype: DType;
  shape: number[];
  read: () => Promise<Float32Array>;
}

class IndexedCheckpoint implements Checkpoint {
  constructor(
    readonly path: string,
    readonly family: SupportedFamily,
    readonly config: ModelConfig,
    readonly metadata: Record<string, string>,
    private readonly sources: Map<string, Source>,
    private readonly files: Closable[],
    readonly tokenizerDir?: string,
  ) {}

  keys(): string[] {
    return [...this.sources.keys()];
  }
  shape(key: string): number[] | undefined {
    return this.sources.get(key)?.shape.slice();
  }
  dtype(key: string): DType | undefined {
    return this.sources.get(key)?.dtype;
  }
  readFloat32(key: string): Promise<Float32Array> {
    const s = this.sources.get(key);
    if (!s) return Promise.reject(new CheckpointError('missing_key', `${this.path}: no tensor "${key}"`));
    return s.read();
  }
  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}

/** Families that load, for messages. */
const SUPPORTED: readonly SupportedFamily[] = ['sd1', 'sdxl'];

const FAMILY_NAMES: Record<ModelFamily, string> = {
  sd1: 'SD 1.x',
  sd2: 'SD 2.x',
  'sd2-v': 'SD 2.x (v-prediction)',
  sdxl: 'SDXL',
  sd3: 'SD 3',
  flux: 'Flux',
  unknown: 'an unknown family',
};

/** Display name of a family ("SDXL", "SD 2.x", ...). */
export function familyName(f: ModelFamily): string {
  return FAMILY_NAMES[f];
}

/**
 * Opens an SD1.x or SDXL checkpoint. Example:
 * `const ckpt = await openCheckpoint('models/checkpoints/v1-5.safetensors'); ckpt.config.unet.model_channels // 320`
 * Other families are detected and refused with code `unsupported_model_family` (see detectCheckpointFamily).
 */
export async function openCheckpoint(path: string, opts: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  const opened = await openSources(path);
  try {
    const { sources, metadata, overrides } = opened;
    const declared = metadata[CONFIG_METADATA_KEY] !== undefined ? declaredParameterization(metadata[CONFIG_METADATA_KEY]) : undefined;
    const parameterization = declared ?? overrides.parameterization ?? opts.overrides?.parameterization;
    const detection = detectFamily(sources.keys(), parameterization ? { parameterization } : {});
    const family = detection.family;
    if (family !== 'sd1' && family !== 'sdxl') {
      throw new CheckpointError(
        'unsupported_model_family',
        `${path}: this is ${familyName(family)} (${detection.reason}); Easel runs ${SUPPORTED.map(familyName).join(' and ')} checkpoints`,
      );
    }
    const shapeOf = (k: string) => sources.get(k)?.shape;
    const merged = mergeOverrides(overrides, opts.overrides);
    const config: ModelConfig =
      family === 'sdxl' ? inferSdxlConfig(shapeOf, { metadata, overrides: merged as DeepPartial<SDXLConfig> }) : inferSd1Config(shapeOf, { metadata, overrides: merged as DeepPartial<SD1Config> });
    if (opened.diffusers) addVirtualTensors(sources, config);
    return new IndexedCheckpoint(path, family, config, metadata, sources, opened.files, opened.tokenizerDir);
  } catch (err) {
    await Promise.all(opened.files.map((f) => f.close()));
    throw err;
  }
}

/** The family of any checkpoint (for model lists), without building a config. */
export async function detectCheckpointFamily(path: string, hints: FamilyHints = {}): Promise<FamilyDetection> {
  const opened = await openSources(path);
  try {
    const declared = opened.metadata[CONFIG_METADATA_KEY];
    const parameterization = hints.parameterization ?? (declared ? declaredParameterization(declared) : undefined) ?? opened.overrides.parameterization;
    return detectFamily(opened.sources.keys(), parameterization ? { parameterization } : {});
  } finally {
    await Promise.all(opened.files.map((f) => f.close()));
  }
}

interface OpenedSources {
  sources: Map<string, Source>;
  files: Closable[];
  metadata: Record<string, string>;
  overrides: AnyOverrides;
  diffusers: boolean;
  tokenizerDir?: string;
  /** SDXL diffusers folders: the second tokenizer (open_clip's vocabulary in transformers files). */
  tokenizer2Dir?: string;
}

async function openSources(path: string): Promise<OpenedSources> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new CheckpointError('unsupported_format', `checkpoint not found: ${path}`);
  }
  if (isDir) return openDiffusers(path);
  if (PICKLE_EXTENSIONS.has(extname(path).toLowerCase())) return openTorchSources(path);
  const file = await SafetensorsFile.open(path);
  const sources = new Map<string, Source>();
  for (const key of file.keys()) {
    const info = file.info(key)!;
    sources.set(normalizeSingleFileKey(key), { dtype: info.dtype, shape: info.shape, read: () => file.readFloat32(key) });
  }
  return { sources, files: [file], metadata: file.metadata, overrides: {}, diffusers: false };
}

// Torch files carry no safetensors metadata: the config comes from the shapes (and overrides).
async function openTorchSources(path: string): Promise<OpenedSources> {
  const file = await openTorchFile(path);
  try {
    const sources = new Map<string, Source>();
    for (const [key, t] of stateDictTensors(file.root)) {
      const name = normalizeSingleFileKey(key);
      if (sources.has(name)) throw new CheckpointError('duplicate_key', `${path}: two tensors map to "${name}"`);
      sources.set(name, { dtype: t.dtype, shape: [...t.shape], read: () => t.toFloat32() });
    }
    if (sources.size === 0) throw new CheckpointError('unsupported_format', `${path}: the torch file holds no state dict of tensors`);
    return { sources, files: [file], metadata: {}, overrides: {}, diffusers: false };
  } catch (err) {
    await file.close();
    throw err;
  }
}

// SD1 files saved with transformers < 4.x lack the `text_model.` level in CLIP keys
// (`cond_stage_model.transformer.encoder.layers.0...`); A1111 renames them the same way on load.
const LEGACY_CLIP_KEY = /^cond_stage_model\.transformer\.(embeddings|encoder|final_layer_norm)\./;

export function normalizeSingleFileKey(key: string): string {
  return LEGACY_CLIP_KEY.test(key) ? key.replace('cond_stage_model.transformer.', CLIP_L_PREFIX) : key;
}

const COMPONENT_FILES: Record<DiffusersComponent, string[]> = {
  unet: ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors'],
  vae: ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors'],
  text_encoder: ['model.safetensors', 'model.fp16.safetensors'],
  text_encoder_2: ['model.safetensors', 'model.fp16.safetensors'],
};

/** `x @ W` weights stored as a Linear: [out, in] → [in, out]. */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

async function openDiffusers(dir: string): Promise<OpenedSources> {
  const files: SafetensorsFile[] = [];
  const sources = new Map<string, Source>();
  try {
    // SDXL folders have a second text encoder (OpenCLIP bigG in transformers naming).
    const sdxl = existsSync(join(dir, 'text_encoder_2'));
    const components = sdxl ? (['unet', 'vae', 'text_encoder', 'text_encoder_2'] as const) : (['unet', 'vae', 'text_encoder'] as const);
    for (const component of components) {
      const name = COMPONENT_FILES[component].find((f) => existsSync(join(dir, component, f)));
      if (!name) {
        throw new CheckpointError('unsupported_format', `${dir}: diffusers folder needs ${component}/${COMPONENT_FILES[component][0]} (pickle .bin weights are not supported)`);
      }
      const file = await SafetensorsFile.open(join(dir, component, name));
      files.push(file);
      for (const m of mapDiffusersKeys(component, file.keys(), { textEncoderPrefix: sdxl ? SDXL_CLIP_L_PREFIX : undefined })) {
        const info = file.info(m.source)!;
        if (sources.has(m.target)) throw new CheckpointError('duplicate_key', `${dir}: two tensors map to "${m.target}"`);
        let shape = m.reshape ? m.reshape(info.shape) : info.shape;
        let read = () => file.readFloat32(m.source);
        if (m.sources) {
          const parts = m.sources;
          shape = [info.shape[0]! * parts.length, ...info.shape.slice(1)];
          read = async () => {
            const data = await Promise.all(parts.map((p) => file.readFloat32(p)));
            const out = new Float32Array(data.reduce((n, d) => n + d.length, 0));
            let o = 0;
            for (const d of data) {
              out.set(d, o);
              o += d.length;
            }
            return out;
          };
        } else if (m.transpose) {
          const [rows, cols] = info.shape as [number, number];
          shape = [cols, rows];
          read = async () => transpose2d(await file.readFloat32(m.source), rows, cols);
        }
        sources.set(m.target, { dtype: info.dtype, shape, read });
      }
    }
    const tokenizerDir = existsSync(join(dir, 'tokenizer', 'vocab.json')) ? join(dir, 'tokenizer') : undefined;
    const overrides = await readDiffusersConfigs(dir, sdxl);
    return { sources, files, metadata: {}, overrides, diffusers: true, tokenizerDir };
  } catch (err) {
    await Promise.all(files.map((f) => f.close()));
    throw err;
  }
}

// What the diffusers JSON configs know that shapes cannot: head counts, activation, scale, schedule.
async function readDiffusersConfigs(dir: string, sdxl: boolean): Promise<AnyOverrides> {
  const read = async (rel: string): Promise<Record<string, unknown>> => {
    const p = join(dir, rel);
    if (!existsSync(p)) return {};
    try {
      const v: unknown = JSON.parse(await readFile(p, 'utf8'));
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch (err) {
      throw new CheckpointError('bad_config', `${p}: ${(err as Error).message}`);
    }
  };
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const [unet, vae, te, sched, te2] = await Promise.all([
    read('unet/config.json'),
    read('vae/config.json'),
    read('text_encoder/config.json'),
    read('scheduler/scheduler_config.json'),
    sdxl ? read('text_encoder_2/config.json') : Promise.resolve({} as Record<string, unknown>),
  ]);
  const out: AnyOverrides = {};
  // diffusers' `attention_head_dim` is historically the number of heads (SD1: 8; SDXL: one per
  // level, [5, 10, 20]), not their width; SDXL's width follows from the first attention level.
  const heads = num(unet.attention_head_dim);
  const headList = Array.isArray(unet.attention_head_dim) ? (unet.attention_head_dim as unknown[]).map(num) : undefined;
  const mc = num(unet.block_out_channels && Array.isArray(unet.block_out_channels) ? (unet.block_out_channels as unknown[])[1] : undefined);
  if (heads !== undefined) out.unet = { num_heads: heads };
  else if (sdxl && headList && headList[1] !== undefined && mc !== undefined) out.unet = { num_head_channels: mc / headList[1] };
  const scale = num(vae.scaling_factor);
  if (scale !== undefined) out.scale_factor = scale;
  const clip: DeepPartial<SD1Config['clip_text']> = {};
  if (num(te.num_attention_heads) !== undefined) clip.num_attention_heads = num(te.num_attention_heads);
  if (te.hidden_act === 'quick_gelu' || te.hidden_act === 'gelu') clip.hidden_act = te.hidden_act;
  if (num(te.layer_norm_eps) !== undefined) clip.layer_norm_eps = num(te.layer_norm_eps);
  if (num(te.bos_token_id) !== undefined) clip.bos_token_id = num(te.bos_token_id);
  if (num(te.eos_token_id) !== undefined) clip.eos_token_id = num(te.eos_token_id);
  if (Object.keys(clip).length > 0) {
    if (sdxl) out.clip_l = clip;
    else out.clip_text = clip;
  }
  if (sdxl) {
    const g: DeepPartial<SDXLConfig['open_clip']> = {};
    if (num(te2.num_attention_heads) !== undefined) g.heads = num(te2.num_attention_heads);
    if (num(te2.layer_norm_eps) !== undefined) g.layer_norm_eps = num(te2.layer_norm_eps);
    if (Object.keys(g).length > 0) out.open_clip = g;
  }
  const schedule: DeepPartial<SD1Config['schedule']> = {};
  if (num(sched.beta_start) !== undefined) schedule.linear_start = num(sched.beta_start);
  if (num(sched.beta_end) !== undefined) schedule.linear_end = num(sched.beta_end);
  if (num(sched.num_train_timesteps) !== undefined) schedule.timesteps = num(sched.num_train_timesteps);
  if (Object.keys(schedule).length > 0) out.schedule = schedule;
  if (sched.prediction_type === 'v_prediction') out.parameterization = 'v';
  else if (sched.prediction_type === 'epsilon') out.parameterization = 'eps';
  return out;
}

// Diffusers folders lack the DDPM buffers and (with newer transformers) CLIP's position_ids;
// single files have them, so provide them to keep every checkpoint's key set the same.
function addVirtualTensors(sources: Map<string, Source>, config: ModelConfig): void {
  const positionIds = `${config.family === 'sdxl' ? SDXL_CLIP_L_PREFIX : CLIP_L_PREFIX}embeddings.position_ids`;
  if (!sources.has(positionIds)) {
    const n = config.family === 'sdxl' ? config.clip_l.max_position_embeddings : config.clip_text.max_position_embeddings;
    sources.set(positionIds, { dtype: 'I64', shape: [1, n], read: async () => Float32Array.from({ length: n }, (_, i) => i) });
  }
  // SDXL single files carry sgm's denoiser.sigmas instead of the ldm buffers; keep the key sets alike.
  if (config.family === 'sdxl') return;
  let buffers: ReturnType<typeof ddpmScheduleBuffers> | undefined;
  for (const name of SCHEDULE_BUFFER_NAMES) {
    if (sources.has(name)) continue;
    sources.set(name, {
      dtype: 'F32',
      shape: [config.schedule.timesteps],
      read: async () => (buffers ??= ddpmScheduleBuffers(config.schedule))[name].slice(),
    });
  }
}

function mergeOverrides(a: AnyOverrides, b: AnyOverrides | undefined): AnyOverrides {
  if (!b) return a;
  return {
    ...a,
    ...b,
    unet: { ...a.unet, ...b.unet },
    vae: { ...a.vae, ...b.vae },
    clip_text: { ...a.clip_text, ...b.clip_text },
    clip_l: { ...a.clip_l, ...b.clip_l },
    open_clip: { ...a.open_clip, ...b.open_clip },
    schedule: { ...a.schedule, ...b.schedule },
  } as AnyOverrides;
}
