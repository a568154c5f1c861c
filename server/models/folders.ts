// Where each model type lives under $MODELS_DIR, and which file names count as models. Shared by
// the registry and downloads (kept apart from both so neither imports the other).
import type { ModelType } from '../protocol/actions.js';

export const MODEL_FOLDERS: Record<ModelType, string> = {
  checkpoint: 'checkpoints',
  lora: 'loras',
  vae: 'vae',
  embedding: 'embeddings',
  controlnet: 'controlnet',
  upscaler: 'upscalers',
  detector: 'detectors',
  /** Folders (Hugging Face GPT-2 repositories), one per model: see model-folders.ts. */
  prompt_expander: 'prompt-expanders',
  /** TAESD / TAESDXL live-preview decoders (A1111: models/VAE-approx). */
  vae_approx: 'vae-approx',
};

/** The folder of tokenizers (not a model type: they are folders of small files, not one file). */
export const TOKENIZERS_FOLDER = 'tokenizers';

export const MODEL_FILE_EXT = /\.(safetensors|ckpt|pt|pth|bin|onnx)$/i;
