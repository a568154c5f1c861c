// The settings of a GPT-2 prompt expansion, shared by the `enhance_prompt` action and generate's
// `enhance_prompt` object (snake_case, as transformers names them). zod only; imported by the web app.
import { z } from 'zod';

/** Generation settings of a prompt expansion (enhance_prompt action, and generate's `enhance_prompt` object). */
export function enhanceSettingsFields() {
  return {
    /** A folder name in $MODELS_DIR/prompt-expanders/ (default MagicPrompt-Stable-Diffusion, else the first). */
    model: z.string().min(1).max(256).optional(),
    n: z.number().int().min(1).max(8).optional(),
    seed: z.number().int().min(0).max(4294967295).optional(),
    temperature: z.number().gt(0).max(10).optional(),
    top_k: z.number().int().min(0).max(50257).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    repetition_penalty: z.number().gt(0).max(10).optional(),
    no_repeat_ngram_size: z.number().int().min(0).max(16).optional(),
    max_new_tokens: z.number().int().min(1).max(1024).optional(),
    max_length: z.number().int().min(1).max(1024).optional(),
    min_length: z.number().int().min(0).max(1024).optional(),
    greedy: z.boolean().optional(),
    /** Case-insensitive regex; matching results are generated again (dynamicprompts' blocklist). */
    blocklist: z
      .string()
      .max(512)
      .refine((v) => {
        try {
          new RegExp(v, 'iu');
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional(),
  };
}

