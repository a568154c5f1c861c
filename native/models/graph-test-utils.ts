// Shared by the graph tests: open the sd1-tiny fixture checkpoint and reference tensors, and
// measure how far an output is from a reference. Used only by *.test.ts files.
import { readFileSync } from 'node:fs';
import { SafetensorsFile } from '../io/safetensors.js';
import { openCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { fixturePath, sd1TinyPath } from '../testing/fixtures.js';

/** The fixture README's tolerance for text encoder, UNet and VAE outputs. */
export const FIXTURE_TOLERANCE = 1e-4;

export function openTinyCheckpoint(): Promise<Checkpoint> {
  return openCheckpoint(sd1TinyPath('model.safetensors'));
}

export interface FixtureTensor {
  shape: number[];
  data: Float32Array;
}

/** Reads every tensor of a fixture file (they are small) as float32, I64 ids included. */
export async function readFixture(name: string): Promise<Record<string, FixtureTensor>> {
  const file = await SafetensorsFile.open(sd1TinyPath(name));
  try {
    const out: Record<string, FixtureTensor> = {};
    for (const key of file.keys()) {
      const info = file.info(key);
      if (!info) continue;
      out[key] = { shape: info.shape, data: await file.readFloat32(key) };
    }
    return out;
  } finally {
    await file.close();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > m) m = d;
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Shapes of a full-size key list in ../shared/fixtures/keys (no weights), as a weightShape lookup. */
export function keyListShapes(file: string): { shape: (key: string) => number[] | undefined; keys: string[] } {
  const raw = JSON.parse(readFileSync(fixturePath('keys', file), 'utf8')) as { keys: Array<[string, number[], string]> };
  const map = new Map(raw.keys.map(([k, s]) => [k, s]));
  return { shape: (k) => map.get(k), keys: [...map.keys()] };
}
