// Writes a full-size random-weight SD1.5 checkpoint (1143 tensors, ~2.1 GB in f16) from the key
// list ../shared/fixtures/keys/sd15.json, tensor by tensor so memory stays near the largest
// tensor (the 49408x768 token embedding). For `npm run bench:engine`; not a trained model.
// `makeRandomMain('sdxl')` does the same for SDXL base (scripts/make-random-sdxl.ts).
//
// Usage: npx tsx scripts/make-random-sd15.ts --out FILE [--dtype f16|f32] [--seed N] [--keys FILE]
import { existsSync, readFileSync } from 'node:fs';
import type { DType } from '../native/io/dtype.js';
import { isDType } from '../native/io/dtype.js';
import { pathToFileURL } from 'node:url';
import { SD15_CONFIG, SDXL_BASE_CONFIG } from '../native/models/config.js';
import { writeRandomCheckpoint } from '../native/models/random-checkpoint.js';
import { sd1KeySpec, sdxlKeySpec, type KeySpec } from '../native/models/key-spec.js';
import { fixturePath } from '../native/testing/fixtures.js';
import { parseFlags, runMain } from './cli.js';

/** The two full-size families these scripts make. */
export type RandomFamily = 'sd15' | 'sdxl';

const FAMILY = {
  sd15: { label: 'SD1.5', keys: 'sd15.json', spec: () => sd1KeySpec(SD15_CONFIG), schedule: SD15_CONFIG.schedule, size: '~2.1 GB' },
  sdxl: { label: 'SDXL base', keys: 'sdxl_base.json', spec: () => sdxlKeySpec(SDXL_BASE_CONFIG), schedule: SDXL_BASE_CONFIG.schedule, size: '~6.9 GB' },
} as const;

const help = (f: RandomFamily) => `make-random-${f}: write a full-size random ${FAMILY[f].label} checkpoint for benchmarks (${FAMILY[f].size} in f16)

  --out FILE        where to write the .safetensors file (required)
  --dtype f16|f32   storage type of the weights (default f16, like published files)
  --seed N          seed of the weight PRNG (default 0)
  --keys FILE       key list {"keys": [[key, shape, dtype], ...]} (default ../shared/fixtures/keys/${FAMILY[f].keys};
                    without it the key list is derived from the built-in config)
  --help            show this text`;

function loadKeys(path: string): KeySpec[] {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { keys: [string, number[], string][] };
  return raw.keys.map(([key, shape, dtype]) => {
    if (!isDType(dtype)) throw new Error(`${path}: ${key} has unknown dtype ${dtype}`);
    return { key, shape, dtype: dtype as DType };
  });
}

export async function makeRandomMain(family: RandomFamily): Promise<number> {
  const HELP = help(family);
  const values = parseFlags(
    {
      out: { type: 'string' },
      dtype: { type: 'string', default: 'f16' },
      seed: { type: 'string', default: '0' },
      keys: { type: 'string' },
    },
    HELP,
  );
  if (!values) return 0;
  const seed = Number(values.seed);
  if (!values.out || (values.dtype !== 'f16' && values.dtype !== 'f32') || !Number.isSafeInteger(seed) || seed < 0) {
    console.error(`expected --out FILE, --dtype f16|f32 and a non-negative --seed\n\n${HELP}`);
    return 2;
  }
  const keysPath = values.keys ?? fixturePath('keys', FAMILY[family].keys);
  const specs = existsSync(keysPath) ? loadKeys(keysPath) : FAMILY[family].spec();
  const started = Date.now();
  let lastReport = started;
  const bytes = await writeRandomCheckpoint(values.out, specs, {
    seed,
    dtype: values.dtype === 'f16' ? 'F16' : 'F32',
    distribution: 'uniform',
    schedule: FAMILY[family].schedule,
    onTensor: (i, total) => {
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        console.log(`  ${i + 1}/${total} tensors`);
      }
    },
  });
  const secs = (Date.now() - started) / 1000;
  console.log(`wrote ${values.out}: ${specs.length} tensors, ${(bytes / 2 ** 30).toFixed(2)} GiB of data in ${secs.toFixed(1)} s`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runMain(() => makeRandomMain('sd15'));
