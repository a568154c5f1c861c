// The detection preview ADetailer shows before it inpaints (its `Results.plot()` image): the image
// with every mask that will be inpainted tinted and every kept box outlined, one colour per mask.
import type { Raster } from '../pipelines/image-ops.js';

const COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [255, 56, 56], [255, 157, 151], [255, 112, 31], [255, 178, 29], [207, 210, 49], [72, 249, 10], [146, 204, 23], [61, 219, 134],
];

/** A copy of `image` with the masks blended in (40 %) and the boxes drawn 2 px wide. */
export function drawDetections(image: Raster, masks: readonly Raster[], boxes: readonly (readonly number[])[]): Raster {
  const out: Raster = { ...image, data: image.data.slice() };
  const { width: w, height: h } = image;
  masks.forEach((m, j) => {
    const [r, g, b] = COLOURS[j % COLOURS.length];
    for (let p = 0; p < w * h; p++) {
      const a = (m.data[p] / 255) * 0.4;
      if (a === 0) continue;
      out.data[p * 3] = Math.round(out.data[p * 3] * (1 - a) + r * a);
      out.data[p * 3 + 1] = Math.round(out.data[p * 3 + 1] * (1 - a) + g * a);
      out.data[p * 3 + 2] = Math.round(out.data[p * 3 + 2] * (1 - a) + b * a);
    }
  });
  boxes.forEach((box, j) => {
    const [r, g, b] = COLOURS[j % COLOURS.length];
    const x1 = Math.max(0, Math.floor(box[0])), y1 = Math.max(0, Math.floor(box[1]));
    const x2 = Math.min(w - 1, Math.ceil(box[2]) - 1), y2 = Math.min(h - 1, Math.ceil(box[3]) - 1);
    const set = (x: number, y: number) => {
      if (x < 0 || y < 0 || x >= w || y >= h) return;
      out.data[(y * w + x) * 3] = r;
      out.data[(y * w + x) * 3 + 1] = g;
      out.data[(y * w + x) * 3 + 2] = b;
    };
    for (let t = 0; t < 2; t++) {
      for (let x = x1; x <= x2; x++) {
        set(x, y1 + t);
        set(x, y2 - t);
      }
      for (let y = y1; y <= y2; y++) {
        set(x1 + t, y);
        set(x2 - t, y);
      }
    }
  });
  return out;
}
