// Shared by the ControlNet tests: paths into ../shared/fixtures/sd1-controlnet and its tensors.
// Used only by *.test.ts files.
import { existsSync } from 'node:fs';
import { SafetensorsFile } from '../io/safetensors.js';
import type { FixtureTensor } from '../models/graph-test-utils.js';
import { fixturePath } from '../testing/fixtures.js';

export function cnFixturePath(name: string): string {
  const p = fixturePath('sd1-controlnet', name);
  if (!existsSync(p)) throw new Error(`fixture missing: ${p} (tests expect ../shared/fixtures beside the checkout)`);
  return p;
}

/** The tensors of controlnet.safetensors whose names start with `prefix`. */
export async function readCnTensors(prefix: string): Promise<Record<string, FixtureTensor>> {
  const file = await SafetensorsFile.open(cnFixturePath('controlnet.safetensors'));
  try {
    const out: Record<string, FixtureTensor> = {};
    for (const key of file.keys()) {
      if (!key.startsWith(prefix)) continue;
      out[key.slice(prefix.length)] = { shape: file.info(key)!.shape, data: await file.readFloat32(key) };
    }
    return out;
  } finally {
    await file.close();
  }
}

/** README tolerance for residuals: |Δ| ≤ 1e-4 · max|ref| per tensor. */
export function residualTolerance(ref: Float32Array): number {
  let m = 0;
  for (const v of ref) m = Math.max(m, Math.abs(v));
  return 1e-4 * m;
}
