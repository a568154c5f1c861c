// A VAE override file (A1111 "SD VAE"): a standalone VAE state dict whose keys carry the
// `first_stage_model.` prefix or not (vae-ft-mse-840000 and most Civitai VAEs have none), as
// .safetensors or, through the restricted pickle reader, .pt / .ckpt. It replaces the checkpoint's
// VAE tensors and nothing else; A1111 likewise drops `loss.*` and the `model_ema` counters.
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { SafetensorsFile } from '../io/safetensors.js';
import { openTorchFile, stateDictTensors, type TorchFile, type TorchTensor } from '../io/torch-file.js';
import { NetworkError } from '../lora/lora-error.js';
import type { WeightSource } from '../runtime/weights.js';

const PREFIX = 'first_stage_model.';
const PROBE = `${PREFIX}decoder.conv_in.weight`;
export const VAE_EXTENSIONS = ['.safetensors', '.pt', '.ckpt'] as const;

interface Entry {
  shape: readonly number[];
  read: () => Promise<Float32Array>;
}

export class VaeFile {
  private constructor(
    readonly path: string,
    /** path:size:mtime — keys the VAE sessions. */
    readonly version: string,
    private readonly entries: Map<string, Entry>,
    private readonly closer: () => Promise<void>,
  ) {}

  /** The file name as A1111 writes it in `VAE:` (with extension). */
  get name(): string {
    return basename(this.path);
  }

  /** Original-format keys (`first_stage_model.…`) this file provides. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Opens a VAE file.
   *
   * @example const vae = await VaeFile.open('models/vae/vae-ft-mse-840000-ema-pruned.safetensors')
   * @throws NetworkError `bad_vae_file` when it holds no SD VAE decoder (e.g. a diffusers-layout VAE)
   */
  static async open(path: string): Promise<VaeFile> {
    const ext = extname(path).toLowerCase();
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new NetworkError('vae_not_found', `VAE file ${basename(path)} not found`);
    const version = `${path}:${st.size}:${st.mtimeMs}`;
    const entries = new Map<string, Entry>();
    const add = (key: string, e: Entry) => {
      if (key.startsWith('loss') || key === 'model_ema.decay' || key === 'model_ema.num_updates') return;
      entries.set(key.startsWith(PREFIX) ? key : PREFIX + key, e);
    };
    let closer: () => Promise<void>;
    try {
      if (ext === '.safetensors') {
        const f = await SafetensorsFile.open(path);
        for (const k of f.keys()) add(k, { shape: f.info(k)!.shape, read: () => f.readFloat32(k) });
        closer = () => f.close();
      } else if (ext === '.pt' || ext === '.ckpt') {
        const f: TorchFile = await openTorchFile(path);
        for (const [k, t] of stateDictTensors(f.root)) add(k, { shape: t.shape, read: () => (t as TorchTensor).toFloat32() });
        closer = () => f.close();
      } else {
        throw new NetworkError('unsupported_format', `${basename(path)}: VAE files must be .safetensors, .pt or .ckpt`);
      }
    } catch (err) {
      if (err instanceof NetworkError) throw err;
      // A refused pickle keeps its own code: the client must learn the file may be malicious.
      if ((err as { code?: unknown }).code === 'unsafe_pickle') throw err;
      throw new NetworkError('bad_vae_file', `${basename(path)}: ${(err as Error).message}`);
    }
    if (!entries.has(PROBE)) {
      await closer();
      throw new NetworkError('bad_vae_file', `${basename(path)}: no ${PROBE.slice(PREFIX.length)} — not an SD VAE in the original layout`);
    }
    return new VaeFile(path, version, entries, closer);
  }

  /** `base` with every VAE tensor taken from this file (other keys untouched). */
  overlay(base: WeightSource): WeightSource {
    return {
      shape: (k) => (k.startsWith(PREFIX) ? (this.entries.get(k)?.shape ?? base.shape(k)) : base.shape(k)),
      readFloat32: (k) => {
        const e = k.startsWith(PREFIX) ? this.entries.get(k) : undefined;
        return e ? e.read() : base.readFloat32(k);
      },
    };
  }

  close(): Promise<void> {
    return this.closer();
  }
}
