// The gallery filters applied to the IndexedDB copy when the server is out of reach, with the
// same meaning as the server's GalleryQuery (task, model, favorite, date range, prompt search) and
// the same order (newest first, id as tie-break), so browsing offline looks like browsing online.
import type { GalleryImage, GalleryQuery } from '../data/protocol.js';

/** The filter fields the gallery UI sets (pagination is handled by the caller). */
export type GalleryFilter = Pick<GalleryQuery, 'task' | 'model' | 'favorite' | 'search' | 'date_from' | 'date_to'>;

/** Lower-cased words; every one must occur in the prompt or the negative prompt. */
function searchWords(search: string): string[] {
  return search
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

export function matchesFilter(img: GalleryImage, f: GalleryFilter): boolean {
  if (f.task && img.task !== f.task) return false;
  if (f.model && img.model !== f.model) return false;
  if (f.favorite !== undefined && img.favorite !== f.favorite) return false;
  const day = img.created_at.slice(0, 10);
  if (f.date_from && day < f.date_from.slice(0, 10)) return false;
  if (f.date_to && day > f.date_to.slice(0, 10)) return false;
  if (f.search) {
    const text = `${img.prompt}\n${img.negative_prompt}`.toLowerCase();
    if (!searchWords(f.search).every((w) => text.includes(w))) return false;
  }
  return true;
}

/** Newest first; equal timestamps ordered by id descending, as the server's keyset does. */
export function compareNewestFirst(a: GalleryImage, b: GalleryImage): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function filterAndSort(images: readonly GalleryImage[], f: GalleryFilter): GalleryImage[] {
  return images.filter((i) => matchesFilter(i, f)).sort(compareNewestFirst);
}

/** True when no filter field is set (the default gallery view). */
export function isEmptyFilter(f: GalleryFilter): boolean {
  return !f.task && !f.model && f.favorite === undefined && !f.search && !f.date_from && !f.date_to;
}
