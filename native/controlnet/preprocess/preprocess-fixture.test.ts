// Every unit of ../shared/fixtures/sd1-controlnet: the detected map before the resize mode and the
// hint after it must equal the extension's PNGs byte for byte, and the hint tensor must be png/255.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../pipelines/resize.js';
import { fixturePath } from '../../testing/fixtures.js';
import { controlNetModule, normalizeUnitSliders } from '../modules.js';
import { preprocessControlImage, type ResizeModeName } from './preprocess-control-image.js';

interface Unit {
  module: string;
  image: string;
  resize_mode?: ResizeModeName;
  processor_res?: number;
  threshold_a?: number;
  threshold_b?: number;
  pixel_perfect?: boolean;
}
interface Case {
  name: string;
  width: number;
  height: number;
  controlnet_units: Unit[];
  unit_files: { control_image: string; detected_raw_png: string; hint_png: string }[];
}
interface CaseUnitInfo {
  processor_res_used: number;
  detected_raw_shape: number[];
  detected_map_shape: number[];
}

const dir = (f: string): string => fixturePath('sd1-controlnet', f);
const e2e = JSON.parse(readFileSync(dir('e2e.json'), 'utf8')) as { cases: Case[] };
const casesInfo = JSON.parse(readFileSync(dir('cases.json'), 'utf8')) as { cases: { name: string; units: CaseUnitInfo[] }[] };

const units = e2e.cases.flatMap((c) => c.controlnet_units.map((u, k) => ({ c, u, k })));

describe('sd1-controlnet fixture: preprocessing', () => {
  it('covers all 7 units', () => {
    expect(units.length).toBe(7);
  });

  it.each(units.map((x) => [`${x.c.name} u${x.k}`, x] as const))('%s', async (_label, { c, u, k }) => {
    const info = casesInfo.cases.find((x) => x.name === c.name)!.units[k]!;
    const image = await decodeImage(readFileSync(dir(u.image)));
    const mod = controlNetModule(u.module);
    const s = normalizeUnitSliders(mod, { processor_res: u.processor_res, threshold_a: u.threshold_a, threshold_b: u.threshold_b });
    const r = preprocessControlImage(image, {
      module: u.module,
      processorRes: s.processor_res.value,
      thresholdA: s.threshold_a.value,
      thresholdB: s.threshold_b.value,
      pixelPerfect: u.pixel_perfect ?? false,
      resizeMode: u.resize_mode ?? 'Crop and Resize',
      width: c.width,
      height: c.height,
    });
    expect(r.processorResUsed).toBe(info.processor_res_used);

    const files = c.unit_files[k]!;
    const raw = await decodeImage(readFileSync(dir(files.detected_raw_png)));
    expect([r.detectedRaw.height, r.detectedRaw.width, r.detectedRaw.channels]).toEqual(info.detected_raw_shape);
    expect(Buffer.from(r.detectedRaw.data).equals(Buffer.from(raw.data)), 'detected_raw bytes').toBe(true);

    const hintPng = await decodeImage(readFileSync(dir(files.hint_png)));
    expect([r.preview.height, r.preview.width, r.preview.channels]).toEqual(info.detected_map_shape);
    expect(Buffer.from(r.preview.data).equals(Buffer.from(hintPng.data)), 'hint bytes').toBe(true);
    const n = hintPng.width * hintPng.height;
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < 3; ch++) {
        if (r.hint.data[ch * n + i] !== Math.fround(hintPng.data[i * 3 + ch]! / 255)) {
          throw new Error(`hint tensor differs at channel ${ch}, pixel ${i}`);
        }
      }
    }
  });
});
