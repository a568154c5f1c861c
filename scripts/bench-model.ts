// The checkpoint the engine benchmarks use when none is given: $EASEL_BENCH_SD15 ($EASEL_BENCH_SDXL),
// else a full-size random SD1.5 (SDXL) made once by scripts/make-random-sd15.ts (make-random-sdxl.ts)
// in the temp folder and reused afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_MODEL_DIR = join(tmpdir(), 'easel-bench');

export function defaultModel(family: 'sd15' | 'sdxl' = 'sd15'): string {
  const env = family === 'sdxl' ? 'EASEL_BENCH_SDXL' : 'EASEL_BENCH_SD15';
  const fromEnv = process.env[env];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${env}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const dir = BENCH_MODEL_DIR;
  const file = join(dir, `${family}-random-f16.safetensors`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  console.error(`making a random full-size ${family} checkpoint at ${file} (once; reused later)...`);
  // Written under a temporary name so an interrupted run never leaves a partial file to be reused.
  const part = `${file}.part`;
  const made = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', `make-random-${family}.ts`), '--out', part], {
    stdio: 'inherit',
    cwd: repoRoot,
  });
  if (made.status !== 0) throw new Error(`make-random-${family} failed with status ${made.status}`);
  renameSync(part, file);
  return file;
}
