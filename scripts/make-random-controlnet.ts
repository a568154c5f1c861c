// Writes a full-size random-weight ControlNet with the real control_v11p_sd15 topology (the SD1.5
// UNet encoder, hint block, 13 zero convs; 723 MB in f16, lllyasviel `control_model.` keys) or,
// with --sdxl, an SDXL base-sized one. For `bench:controlnet`; not a trained model.
//
// Usage: npx tsx scripts/make-random-controlnet.ts --out FILE [--dtype f16|f32] [--seed N] [--sdxl]
import { pathToFileURL } from 'node:url';
import { writeRandomControlNet, controlNetKeySpec } from '../native/controlnet/random-controlnet.js';
import { SD15_CONFIG, SDXL_BASE_CONFIG } from '../native/models/config.js';
import { parseFlags, runMain } from './cli.js';

const HELP = `make-random-controlnet: write a full-size random ControlNet (control_v11p_sd15 topology) for benchmarks

  --out FILE        where to write the .safetensors file (required)
  --dtype f16|f32   storage type of the weights (default f16, like published files)
  --seed N          seed of the weight PRNG (default 0)
  --sdxl            SDXL base-sized instead of SD1.5
  --help            show this text`;

export async function main(): Promise<number> {
  const values = parseFlags({ out: { type: 'string' }, dtype: { type: 'string', default: 'f16' }, seed: { type: 'string', default: '0' }, sdxl: { type: 'boolean', default: false } }, HELP);
  if (!values) return 0;
  const seed = Number(values.seed);
  if (!values.out || (values.dtype !== 'f16' && values.dtype !== 'f32') || !Number.isSafeInteger(seed) || seed < 0) {
    console.error(`expected --out FILE, --dtype f16|f32 and a non-negative --seed\n\n${HELP}`);
    return 2;
  }
  const unet = values.sdxl ? SDXL_BASE_CONFIG.unet : SD15_CONFIG.unet;
  const started = Date.now();
  const bytes = await writeRandomControlNet(values.out, unet, { seed, dtype: values.dtype === 'f16' ? 'F16' : 'F32', distribution: 'uniform' });
  const n = controlNetKeySpec(unet).length;
  console.log(`wrote ${values.out}: ${n} tensors, ${(bytes / 2 ** 30).toFixed(2)} GiB of data in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runMain(main);
