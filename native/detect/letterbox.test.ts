// LetterBox against the fixture's letterboxed images (README §5): OpenCV's uint8 bilinear resize,
// the rounding of the padding and the pad colour.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { decodeImage } from '../pipelines/resize.js';
import { fixturePath } from '../testing/fixtures.js';
import { letterbox, pyRound } from './letterbox.js';

const dir = fixturePath('yolo-tiny');
const cases = (JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as {
  cases: { name: string; image: string; imgsz: number; letterbox: { resized_wh: number[]; pad_top: number; pad_bottom: number; pad_left: number; pad_right: number; input_hw: number[] } }[];
}).cases;

describe('letterbox', () => {
  it('rounds like Python', () => {
    expect([pyRound(0.5), pyRound(1.5), pyRound(2.5), pyRound(-0.5), pyRound(-1.5), pyRound(2.4)]).toEqual([0, 2, 2, 0, -2, 2]);
  });

  for (const c of cases) {
    it(`${c.name}: size, padding and pixels`, async () => {
      const img = await decodeImage(readFileSync(join(dir, c.image)));
      const lb = letterbox(img, [c.imgsz, c.imgsz]);
      expect([...lb.resized]).toEqual(c.letterbox.resized_wh);
      expect([lb.padTop, lb.padBottom, lb.padLeft, lb.padRight]).toEqual([c.letterbox.pad_top, c.letterbox.pad_bottom, c.letterbox.pad_left, c.letterbox.pad_right]);
      expect([lb.image.height, lb.image.width]).toEqual(c.letterbox.input_hw);
      let want: Uint8Array;
      if (c.name === 'det.img0_imgsz640') want = (await decodeImage(readFileSync(join(dir, 'letterbox', `${c.name}.png`)))).data;
      else {
        const st = await SafetensorsFile.open(join(dir, c.name.startsWith('det') ? 'det.safetensors' : 'seg.safetensors'));
        want = await st.readBytes(`${c.name}.letterbox_rgb`);
        await st.close();
      }
      let diff = 0, big = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(want[i] - lb.image.data[i]);
        if (d > 0) diff++;
        if (d > 1) big++;
      }
      expect(big).toBe(0);
      expect(diff).toBe(0);
    });
  }
});
