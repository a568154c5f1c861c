// Where the Inpaint tab's source image comes from (file picker, drag and drop, paste, a gallery or
// result image) and how it becomes both something the canvas can draw and something the
// protocol accepts. Reading a file is the Generate tab's loader (readImageFile), so img2img and
// inpaint accept the same files the same way.
import { fetchFile } from '../../data/http.js';
import type { GalleryImage } from '../../data/protocol.js';
import { currentSettings } from '../../data/services.js';
import type { InitImage } from '../../logic/generation-form.js';
import { readImageFile } from '../generate/init-image.js';

/** Sent as they are: lossless, and the browser and the server read them with the same orientation. */
const AS_IS = /^data:image\/(png|webp);base64,/i;
const JPEG = /^data:image\/jpeg;base64,/i;
/** JPEG re-encode quality: visually lossless for a source photo. */
const JPEG_QUALITY = 0.95;

export async function decodeImage(src: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.decoding = 'async';
  img.src = src;
  await img.decode();
  return img;
}

/**
 * Makes the payload match what the canvas shows. A JPEG is redrawn (as JPEG) because the browser
 * applies its EXIF orientation and the server does not: the mask would not line up. GIF, BMP or
 * AVIF, which the server cannot read, become PNG.
 */
async function toProtocolImage(image: InitImage): Promise<InitImage> {
  if (AS_IS.test(image.dataUrl)) return image;
  const img = await decodeImage(image.dataUrl);
  const c = document.createElement('canvas');
  c.width = image.width;
  c.height = image.height;
  c.getContext('2d')!.drawImage(img, 0, 0, image.width, image.height);
  const dataUrl = JPEG.test(image.dataUrl) ? c.toDataURL('image/jpeg', JPEG_QUALITY) : c.toDataURL('image/png');
  return { ...image, dataUrl };
}

/** A picked, dropped or pasted file as the editor's source. */
export async function imageFromFile(file: Blob, name: string): Promise<InitImage> {
  return toProtocolImage(await readImageFile(file, name));
}

/** A gallery record or job result (signed URL) as the editor's source. */
export async function imageFromGallery(image: GalleryImage): Promise<InitImage> {
  const blob = await fetchFile(currentSettings().serverUrl, image.url);
  return imageFromFile(blob, `seed ${image.seed}`);
}

/** The first image file of a paste, if any. */
export function pastedImage(e: ClipboardEvent): File | null {
  for (const item of e.clipboardData?.items ?? []) {
    if (item.kind === 'file' && item.type.startsWith('image/')) return item.getAsFile();
  }
  return null;
}
