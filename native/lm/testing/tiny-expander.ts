// A models folder holding the gpt2-tiny fixture as `prompt-expanders/<name>/` (links, nothing copied),
// laid out as a Hugging Face repository download is: config, weights and tokenizer files side by side.
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../testing/fixtures.js';

const MODEL_FILES = ['config.json', 'generation_config.json', 'model.safetensors'];
const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

/** Links the tiny GPT-2 into `<modelsDir>/prompt-expanders/<name>/` and returns `modelsDir`. */
export function linkTinyExpander(modelsDir = mkdtempSync(join(tmpdir(), 'easel-lm-')), name = 'tiny-gpt2'): string {
  const dir = join(modelsDir, 'prompt-expanders', name);
  mkdirSync(dir, { recursive: true });
  for (const f of MODEL_FILES) symlinkSync(fixturePath('gpt2-tiny', f), join(dir, f));
  for (const f of TOKENIZER_FILES) symlinkSync(fixturePath('gpt2-tiny', 'tokenizer', f), join(dir, f));
  return modelsDir;
}
