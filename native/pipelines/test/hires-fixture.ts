// Test helper: typed access to ../shared/fixtures/sd1-hires (cases.json, e2e.json, hires.safetensors),
// read in place.
import { readFileSync } from 'node:fs';
import { SafetensorsFile } from '../../io/safetensors.js';
import { fixturePath } from '../../testing/fixtures.js';

export const HIRES_DIR = fixturePath('sd1-hires');

export function hiresPath(...parts: string[]): string {
  return fixturePath('sd1-hires', ...parts);
}

export interface HiresCase {
  name: string;
  upscale_kind: 'latent' | 'model';
  hr_upscale_to: [number, number];
  truncate_xy: [number, number];
  latent_upscaled_shape: number[];
  latent_cropped_shape: number[];
  final_size: [number, number];
  latent_mode?: { mode: string; antialias: boolean };
  hr_sampler_used: string;
  hr_scheduler_used: string;
  requested_steps: number;
  steps_total: number;
  t_enc: number;
  sigma_sched: number[];
  sigmas_full: number[];
}

export interface HiresE2eCase {
  name: string;
  checkpoint: string;
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  cfg_scale: number;
  sampler_name: string;
  scheduler: string;
  width: number;
  height: number;
  enable_hr: boolean;
  hr_scale: number;
  hr_upscaler: string | null;
  hr_second_pass_steps: number;
  denoising_strength: number;
  hr_resize_x: number;
  hr_resize_y: number;
  hr_sampler_name: string | null;
  hr_scheduler: string | null;
  hr_prompt: string;
  hr_negative_prompt: string;
  rng_source: string;
  clip_skip: number;
  upscalers_dir: string | null;
  expected_png: string;
  expected_firstpass_png: string;
  expected_size: [number, number];
  infotext: string;
}

export function hiresCases(): HiresCase[] {
  return (JSON.parse(readFileSync(hiresPath('cases.json'), 'utf8')) as { cases: HiresCase[] }).cases;
}

export function hiresE2eCases(): HiresE2eCase[] {
  return (JSON.parse(readFileSync(hiresPath('e2e.json'), 'utf8')) as { cases: HiresE2eCase[] }).cases;
}

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** The tensors of one case (`<case>.<name>` keys), by name without the case prefix. */
export async function hiresTensors(caseName: string): Promise<Map<string, Tensor>> {
  const f = await SafetensorsFile.open(hiresPath('hires.safetensors'));
  try {
    const out = new Map<string, Tensor>();
    for (const key of f.keys()) {
      if (!key.startsWith(`${caseName}.`)) continue;
      out.set(key.slice(caseName.length + 1), { shape: f.info(key)!.shape, data: await f.readFloat32(key) });
    }
    return out;
  } finally {
    await f.close();
  }
}
