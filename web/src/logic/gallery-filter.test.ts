import { describe, expect, it } from 'vitest';
import type { GalleryImage } from '../data/protocol.js';
import { filterAndSort, isEmptyFilter, matchesFilter } from './gallery-filter.js';

function img(patch: Partial<GalleryImage>): GalleryImage {
  return {
    id: 'x',
    job_id: null,
    created_at: '2026-05-01T10:00:00.000Z',
    task: 'txt2img',
    prompt: 'a red fox in the snow',
    negative_prompt: 'blurry',
    model: 'tiny',
    width: 512,
    height: 512,
    seed: 1,
    steps: 20,
    cfg_scale: 7,
    sampler: 'euler_a',
    scheduler: 'automatic',
    favorite: false,
    infotext: '',
    url: '/files/images/x',
    thumb_url: '/files/thumbs/x',
    ...patch,
  };
}

describe('offline gallery filter', () => {
  it('filters by task, model and favorite', () => {
    expect(matchesFilter(img({ task: 'img2img' }), { task: 'txt2img' })).toBe(false);
    expect(matchesFilter(img({}), { model: 'other' })).toBe(false);
    expect(matchesFilter(img({ favorite: true }), { favorite: true })).toBe(true);
    expect(matchesFilter(img({ favorite: false }), { favorite: true })).toBe(false);
  });

  it('filters by inclusive date range', () => {
    const i = img({ created_at: '2026-05-01T23:59:00.000Z' });
    expect(matchesFilter(i, { date_from: '2026-05-01', date_to: '2026-05-01' })).toBe(true);
    expect(matchesFilter(i, { date_from: '2026-05-02' })).toBe(false);
    expect(matchesFilter(i, { date_to: '2026-04-30' })).toBe(false);
  });

  it('searches every word in prompt and negative prompt, ignoring case', () => {
    expect(matchesFilter(img({}), { search: 'Fox snow' })).toBe(true);
    expect(matchesFilter(img({}), { search: 'blurry fox' })).toBe(true);
    expect(matchesFilter(img({}), { search: 'fox desert' })).toBe(false);
  });

  it('sorts newest first with id as tie-break', () => {
    const out = filterAndSort(
      [
        img({ id: 'a', created_at: '2026-05-01T10:00:00.000Z' }),
        img({ id: 'c', created_at: '2026-05-02T10:00:00.000Z' }),
        img({ id: 'b', created_at: '2026-05-01T10:00:00.000Z' }),
      ],
      {},
    );
    expect(out.map((i) => i.id)).toEqual(['c', 'b', 'a']);
    expect(isEmptyFilter({})).toBe(true);
    expect(isEmptyFilter({ favorite: false })).toBe(false);
  });
});
