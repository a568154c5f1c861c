// Saving blobs and copying text from the app. Signed image URLs are cross-origin on Pages builds,
// where `<a download>` is ignored, so files are fetched as blobs and saved from an object URL.
import { fetchFile } from '../data/http.js';
import type { GalleryImage } from '../data/protocol.js';
import { currentSettings } from '../data/services.js';

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke later: some browsers start the download asynchronously after click().
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function imageFilename(img: GalleryImage): string {
  return `easel-${img.created_at.slice(0, 10)}-${img.seed}-${img.id.slice(0, 8)}.png`;
}

export async function downloadImage(img: GalleryImage): Promise<void> {
  saveBlob(await fetchFile(currentSettings().serverUrl, img.url), imageFilename(img));
}

/** Copies text; falls back to a hidden textarea where the async clipboard API is unavailable (http). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.append(ta);
  ta.select();
  document.execCommand('copy');
  ta.remove();
}
