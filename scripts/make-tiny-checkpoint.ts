// Writes a tiny SD1.x single-file checkpoint with random weights and the real SD1.5 topology
// (the shapes of ../shared/fixtures/sd1-tiny: UNet 32 ch, CLIP 3 layers of 32, VAE 32 ch), its
// config in `__metadata__` under `sd_tiny.config`, and the real DDPM schedule buffers.
//
// Usage: npx tsx scripts/make-tiny-checkpoint.ts --out FILE [--seed N] [--inpainting] [--f16]
import { writeTinyCheckpoint } from '../native/models/random-checkpoint.js';
import { parseFlags, runMain } from './cli.js';

const HELP = `make-tiny-checkpoint: write a tiny random SD1.x checkpoint (about 60 MB in f32)

  --out FILE      where to write the .safetensors file (required)
  --seed N        seed of the weight PRNG (default 0); the same seed gives the same bytes
  --inpainting    make the 9-input-channel inpainting UNet
  --f16           store weights as F16 instead of F32
  --help          show this text`;

async function main(): Promise<number> {
  const values = parseFlags(
    {
      out: { type: 'string' },
      seed: { type: 'string', default: '0' },
      inpainting: { type: 'boolean', default: false },
      f16: { type: 'boolean', default: false },
    },
    HELP,
  );
  if (!values) return 0;
  const seed = Number(values.seed);
  if (!values.out || !Number.isSafeInteger(seed) || seed < 0) {
    console.error(`${!values.out ? '--out FILE is required' : `--seed must be a non-negative integer, got ${values.seed}`}\n\n${HELP}`);
    return 2;
  }
  const config = await writeTinyCheckpoint(values.out, { seed, inpainting: values.inpainting, dtype: values.f16 ? 'F16' : 'F32' });
  console.log(`wrote ${values.out} (sd1 tiny, UNet in_channels ${config.unet.in_channels}, seed ${seed})`);
  return 0;
}

runMain(main);
