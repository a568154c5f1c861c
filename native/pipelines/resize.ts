// Image resizing and decoding for the pipelines, on sharp (which runs on its own threads). The
// resize modes are A1111's img2img resize_mode: 0 just resize, 1 crop and resize, 2 resize and fill.
import sharp, { type Sharp } from 'sharp';
import { makeRaster, type Raster } from './image-ops.js';

export type ResizeMode = 0 | 1 | 2;

function fromRaster(r: Raster): Sharp {
  return sharp(r.data, { raw: { width: r.width, height: r.height, channels: r.channels } });
}

async function toRaster(s: Sharp, channels: 1 | 3 | 4): Promise<Raster> {
  const pipeline = channels === 1 ? s.toColourspace('b-w').extractChannel(0) : channels === 3 ? s.removeAlpha() : s.ensureAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`expected ${channels} channels after conversion, got ${info.channels}`);
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * Decodes PNG/JPEG/WebP bytes into RGB, flattening transparency onto white as A1111 does
 * (images.flatten with img2img_background_color #ffffff), or into RGBA when `keepAlpha` is set and
 * the image has an alpha channel (masks: their alpha decides).
 */
export async function decodeImage(bytes: Uint8Array, keepAlpha = false): Promise<Raster> {
  const s = sharp(bytes, { failOn: 'error' });
  const meta = await s.metadata();
  if (keepAlpha && meta.hasAlpha) return toRaster(s, 4);
  return toRaster(meta.hasAlpha ? s.flatten({ background: '#ffffff' }) : s, 3);
}

/** Resizes with Lanczos as A1111 does (PIL LANCZOS) in one of its three resize modes. */
export async function resizeRaster(src: Raster, width: number, height: number, mode: ResizeMode = 0): Promise<Raster> {
  if (src.width === width && src.height === height) return { ...src, data: src.data.slice() };
  const s = fromRaster(src);
  if (mode === 0) return toRaster(s.resize(width, height, { fit: 'fill', kernel: 'lanczos3' }), src.channels);
  if (mode === 1) return toRaster(s.resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' }), src.channels);
  // Resize and fill: fit inside, then stretch the edge pixels into the borders.
  const ratio = width / height, srcRatio = src.width / src.height;
  const fitW = ratio < srcRatio ? width : Math.round((src.width * height) / src.height);
  const fitH = ratio < srcRatio ? Math.round((src.height * width) / src.width) : height;
  const inner = await toRaster(fromRaster(src).resize(fitW, fitH, { fit: 'fill', kernel: 'lanczos3' }), src.channels);
  const left = Math.floor((width - fitW) / 2), top = Math.floor((height - fitH) / 2);
  return toRaster(
    fromRaster(inner).extend({ left, right: width - fitW - left, top, bottom: height - fitH - top, extendWith: 'copy' }),
    src.channels,
  );
}

/** Gaussian blur of a premultiplied RGBA raster, channel groups blurred separately so sharp does not premultiply again. */
export async function blurPremultipliedRgba(src: Raster, radius: number): Promise<Raster> {
  const n = src.width * src.height;
  const rgb = makeRaster(src.width, src.height, 3);
  const alpha = makeRaster(src.width, src.height, 1);
  for (let i = 0; i < n; i++) {
    rgb.data[i * 3] = src.data[i * 4]!;
    rgb.data[i * 3 + 1] = src.data[i * 4 + 1]!;
    rgb.data[i * 3 + 2] = src.data[i * 4 + 2]!;
    alpha.data[i] = src.data[i * 4 + 3]!;
  }
  const sigma = Math.max(0.3, radius);
  const [brgb, ba] = await Promise.all([toRaster(fromRaster(rgb).blur(sigma), 3), toRaster(fromRaster(alpha).blur(sigma), 1)]);
  const out = makeRaster(src.width, src.height, 4);
  for (let i = 0; i < n; i++) {
    out.data[i * 4] = brgb.data[i * 3]!;
    out.data[i * 4 + 1] = brgb.data[i * 3 + 1]!;
    out.data[i * 4 + 2] = brgb.data[i * 3 + 2]!;
    out.data[i * 4 + 3] = ba.data[i]!;
  }
  return out;
}

export async function encodePng(r: Raster): Promise<Buffer> {
  return fromRaster(r).png({ compressionLevel: 6 }).toBuffer();
}

export async function encodeJpeg(r: Raster, quality = 70): Promise<Buffer> {
  return fromRaster(r).jpeg({ quality }).toBuffer();
}
