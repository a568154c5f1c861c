// Where the shared ground truth lives: `../shared/fixtures` beside the checkout. Tests read these
// files in place and never copy them into the repository.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `../shared/fixtures`, or `$EASEL_FIXTURES` when set. */
export const FIXTURES_DIR = process.env.EASEL_FIXTURES ?? resolve(repoRoot, '..', 'shared', 'fixtures');

/** `../shared/fixtures/sd1-tiny` */
export const SD1_TINY_DIR = join(FIXTURES_DIR, 'sd1-tiny');

export function sd1TinyPath(name: string): string {
  const p = join(SD1_TINY_DIR, name);
  if (!existsSync(p)) throw new Error(`fixture missing: ${p} (tests expect ../shared/fixtures beside the checkout)`);
  return p;
}

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES_DIR, ...parts);
}

/** `../shared/fixtures/sdxl-tiny` */
export const SDXL_TINY_DIR = join(FIXTURES_DIR, 'sdxl-tiny');

export function sdxlTinyPath(name: string): string {
  const p = join(SDXL_TINY_DIR, name);
  if (!existsSync(p)) throw new Error(`fixture missing: ${p} (tests expect ../shared/fixtures beside the checkout)`);
  return p;
}
