// Reads ../shared/fixtures/keys/*.json for the model tests.
import { readFileSync } from 'node:fs';
import { fixturePath } from '../../testing/fixtures.js';

export interface KeyList {
  keys: string[];
  shapeOf: (key: string) => number[] | undefined;
  dtypeOf: (key: string) => string | undefined;
}

export function loadKeyList(name: 'sd15' | 'sd21_v' | 'sdxl_base'): KeyList {
  const raw = JSON.parse(readFileSync(fixturePath('keys', `${name}.json`), 'utf8')) as { keys: [string, number[], string][] };
  const map = new Map(raw.keys.map(([k, s, d]) => [k, { shape: s, dtype: d }]));
  return { keys: raw.keys.map((k) => k[0]), shapeOf: (k) => map.get(k)?.shape, dtypeOf: (k) => map.get(k)?.dtype };
}
