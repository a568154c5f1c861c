// Turning the coverage mask into pixels: the opaque greyscale RGBA that becomes the PNG sent with
// the image (white = inpaint, black = keep, A1111's convention; soft edges stay grey, and the
// server keeps them soft as A1111 keeps a grey mask), and the coloured overlay the editor draws over the image (alpha =
// coverage, so the overlay's opacity is a single globalAlpha at draw time).
import type { Mask, Rect } from './stroke-raster.js';

export type Rgb = readonly [number, number, number];

/** The whole mask as opaque RGBA (ImageData layout) for the exported PNG. */
export function maskToRgba(mask: Mask): Uint8ClampedArray {
  const out = new Uint8ClampedArray(mask.width * mask.height * 4);
  const d = mask.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    out[i * 4] = v;
    out[i * 4 + 1] = v;
    out[i * 4 + 2] = v;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Coverage read back from decoded PNG pixels (RGBA): the red channel, as maskToRgba wrote it. */
export function rgbaToCoverage(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Mask {
  const data = new Uint8ClampedArray(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rgba[i * 4]!;
  return { width, height, data };
}

/** The overlay pixels of a rectangle of the mask: `color` with alpha = coverage (RGBA, rect-sized). */
export function overlayRgba(mask: Mask, rect: Rect, color: Rgb): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rect.w * rect.h * 4);
  for (let row = 0; row < rect.h; row++) {
    const src = (rect.y + row) * mask.width + rect.x;
    for (let col = 0; col < rect.w; col++) {
      const o = (row * rect.w + col) * 4;
      out[o] = color[0];
      out[o + 1] = color[1];
      out[o + 2] = color[2];
      out[o + 3] = mask.data[src + col]!;
    }
  }
  return out;
}

/** '#rrggbb' → [r, g, b]; anything else is the default overlay red. */
export function parseHexColor(hex: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  return m ? [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)] : [255, 48, 48];
}

/** Number of pixels the server will repaint: coverage ≥ 128, where A1111's latent mask rounds to 1. */
export function countMasked(mask: Mask): number {
  let n = 0;
  for (const v of mask.data) if (v >= 128) n++;
  return n;
}
