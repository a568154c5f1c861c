import { describe, expect, it } from 'vitest';
import { formatInfotext } from '../infotext/format-infotext.js';
import type { ImageRecord } from '../gallery/gallery-store.js';
import { datePath, deletedName, fromDriveMetadata, PROPERTY_MAX_BYTES, toAppProperties } from './app-properties.js';

const infotext = formatInfotext({ prompt: 'a cat, (wizard hat:1.3)', negative_prompt: 'lowres', steps: 25, sampler: 'euler_a', cfg_scale: 6.5, seed: 1234, width: 512, height: 768, model: 'dreamshaper_8' });
const record: ImageRecord = {
  id: 'Abc_123-xyz',
  job_id: 'job_9',
  created_at: '2026-01-05T23:30:00.123Z',
  favorite: true,
  infotext,
  file: '2026-01-05/1767655800123-1234.png',
  task: 'txt2img',
  prompt: 'a cat, (wizard hat:1.3)',
  negative_prompt: 'lowres',
  model: 'dreamshaper_8',
  width: 512,
  height: 768,
  seed: 1234,
  steps: 25,
  cfg_scale: 6.5,
  sampler: 'euler_a',
  scheduler: 'automatic',
};

describe('app properties', () => {
  it('round-trips a gallery row through Drive metadata', () => {
    const props = toAppProperties(record, 'ab'.repeat(32));
    const back = fromDriveMetadata(props, infotext);
    expect(back).toEqual({ ...record, created_at: Date.parse(record.created_at) });
  });

  it('keeps every property within 124 bytes, dropping a value that does not fit (restore falls back to the infotext)', () => {
    const longModel = 'm'.repeat(200);
    const props = toAppProperties({ ...record, model: longModel }, 'ab'.repeat(32));
    for (const [k, v] of Object.entries(props)) expect(Buffer.byteLength(k + v)).toBeLessThanOrEqual(PROPERTY_MAX_BYTES);
    expect(props['model']).toBeUndefined();
    expect(fromDriveMetadata(props, infotext)?.model).toBe('dreamshaper_8');
  });

  it('ignores files that are not Easel uploads', () => {
    expect(fromDriveMetadata({}, infotext)).toBeUndefined();
    expect(fromDriveMetadata({ easel_id: 'x', file: 'a.png', created_at: 'yesterday' }, '')).toBeUndefined();
  });

  it('files an image under its UTC day', () => {
    expect(datePath('2026-01-05T23:30:00.123Z')).toEqual(['2026', '01', '05']);
    expect(datePath('2026-12-31T00:00:00.000Z')).toEqual(['2026', '12', '31']);
  });

  it('prefixes the name of a deleted image once, however often the update is repeated', () => {
    expect(deletedName('1767655800123-1234.png')).toBe('deleted-1767655800123-1234.png');
    expect(deletedName(deletedName('1767655800123-1234.png'))).toBe('deleted-1767655800123-1234.png');
  });
});
