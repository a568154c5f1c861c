import express from 'express';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageRecord } from '../gallery/gallery-store.js';
import { makePng, meta, readStoredZip, tempGallery, type TempGallery } from '../gallery/test/helpers.js';
import { formatInfotext } from '../infotext/format-infotext.js';
import { withPngTextChunk } from '../infotext/png-chunks.js';
import type { GalleryImage, GalleryPage, PngInfoResponse } from '../protocol/gallery.js';
import { UrlSigner } from '../security/signed-url.js';
import { createFileRoutes, createImageRoutes } from './images.js';

let g: TempGallery;
let server: Server;
let base: string;
let images: ImageRecord[];

beforeEach(async () => {
  g = await tempGallery();
  const signer = new UrlSigner('test-secret');
  const app = express();
  app.use('/api', createImageRoutes({ store: g.store, signer }));
  app.use('/files', createFileRoutes({ store: g.store, signer }));
  images = [];
  for (const [i, task] of (['txt2img', 'img2img', 'txt2img'] as const).entries()) {
    const infotext = formatInfotext({ prompt: `cat number ${i}`, steps: 20, sampler: 'euler', cfg_scale: 7, seed: 100 + i, width: 32, height: 32 });
    images.push(await g.store.addImage({ png: await makePng(32, 32), infotext, meta: meta({ task, seed: 100 + i, prompt: `cat number ${i}` }) }));
  }
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await g.cleanup();
});

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe('GET /api/images', () => {
  it('lists newest first with filters and keyset pages', async () => {
    const first = await json<GalleryPage>(await fetch(`${base}/api/images?limit=2`));
    expect(first.items.map((i) => i.seed)).toEqual([102, 101]);
    expect(first.next_cursor).not.toBeNull();
    const second = await json<GalleryPage>(await fetch(`${base}/api/images?limit=2&cursor=${encodeURIComponent(first.next_cursor!)}`));
    expect(second.items.map((i) => i.seed)).toEqual([100]);
    expect(second.next_cursor).toBeNull();
    const filtered = await json<GalleryPage>(await fetch(`${base}/api/images?task=img2img&search=cat`));
    expect(filtered.items.map((i) => i.seed)).toEqual([101]);
  });

  it('answers bad queries with 400 naming the field', async () => {
    const res = await fetch(`${base}/api/images?limit=1000`);
    expect(res.status).toBe(400);
    expect((await json<{ error: { code: string; field: string } }>(res)).error).toMatchObject({ code: 'invalid_params', field: 'limit' });
    const unknown = await fetch(`${base}/api/images?colour=red`);
    expect((await json<{ error: { field: string } }>(unknown)).error.field).toBe('colour');
  });
});

describe('GET/DELETE /api/images/:id and signed files', () => {
  it('returns one image whose signed URLs serve the PNG and the WebP thumbnail', async () => {
    const img = await json<GalleryImage>(await fetch(`${base}/api/images/${images[0]!.id}`));
    expect(img).toMatchObject({ id: images[0]!.id, seed: 100, favorite: false, job_id: null });
    const png = await fetch(base + img.url);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).equals(await readFile(join(g.dir, 'outputs', images[0]!.file)))).toBe(true);
    const thumb = await fetch(base + img.thumb_url);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
  });

  it('refuses unsigned, tampered and cross-image file URLs with 403', async () => {
    const img = await json<GalleryImage>(await fetch(`${base}/api/images/${images[0]!.id}`));
    const other = images[1]!.id;
    expect((await fetch(`${base}/files/images/${images[0]!.id}`)).status).toBe(403);
    expect((await fetch(base + img.url.replace(images[0]!.id, other))).status).toBe(403);
    expect((await fetch(base + img.url.replace('/files/images/', '/files/thumbs/'))).status).toBe(403);
    expect((await fetch(base + img.url.replace(/exp=\d+/, 'exp=4102444800'))).status).toBe(403);
    expect((await fetch(`${base}/files/images/..%2F..%2Fgallery.db?exp=1&sig=x`)).status).toBe(400);
  });

  it('deletes an image: 200 then 404, and its file URL stops working', async () => {
    const img = await json<GalleryImage>(await fetch(`${base}/api/images/${images[2]!.id}`));
    const del = await fetch(`${base}/api/images/${images[2]!.id}`, { method: 'DELETE' });
    expect(await json<unknown>(del)).toEqual({ deleted: [images[2]!.id], missing: [] });
    expect((await fetch(`${base}/api/images/${images[2]!.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${base}/api/images/${images[2]!.id}`)).status).toBe(404);
    expect((await fetch(base + img.url)).status).toBe(404);
  });
});

describe('POST /api/images/zip', () => {
  it('streams a zip of the selection', async () => {
    const res = await fetch(`${base}/api/images/zip`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [images[0]!.id, images[1]!.id] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const entries = readStoredZip(Buffer.from(await res.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual([`${images[0]!.id}-100.png`, `${images[1]!.id}-101.png`].sort());
  });

  it('answers 404 when nothing matches and 400 for an empty selection', async () => {
    const post = (body: unknown) => fetch(`${base}/api/images/zip`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ ids: ['nope'] })).status).toBe(404);
    expect((await post({ ids: [] })).status).toBe(400);
  });
});

describe('POST /api/png-info', () => {
  const post = (image: string) =>
    fetch(`${base}/api/png-info`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image }) });

  it('answers like A1111 for a data URL PNG with infotext, plus ComfyUI chunks', async () => {
    const infotext = 'a cat\nNegative prompt: dog\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 9, Size: 512x640';
    let png = withPngTextChunk(await makePng(8, 8), 'parameters', infotext);
    png = withPngTextChunk(png, 'prompt', '{"3": {"class_type": "KSampler"}}');
    const body = await json<PngInfoResponse>(await post(`data:image/png;base64,${png.toString('base64')}`));
    expect(body.info).toBe(infotext);
    expect(body.parameters).toMatchObject({ Prompt: 'a cat', 'Negative prompt': 'dog', Steps: '20', 'Size-1': '512', 'Size-2': '640', Sampler: 'DPM++ 2M Karras' });
    expect(body.items).toEqual({ prompt: '{"3": {"class_type": "KSampler"}}' });
    expect(body.comfyui?.prompt).toEqual({ '3': { class_type: 'KSampler' } });
  });

  it('reads the gallery PNG it wrote (plain base64)', async () => {
    const png = await readFile(join(g.dir, 'outputs', images[1]!.file));
    const body = await json<PngInfoResponse>(await post(png.toString('base64')));
    expect(body.info).toBe(images[1]!.infotext);
    expect(body.parameters['Seed']).toBe('101');
  });

  it('gives a clear 400 for bytes that are not an image', async () => {
    const res = await post(Buffer.from('hello, not an image').toString('base64'));
    expect(res.status).toBe(400);
    const err = (await json<{ error: { code: string; message: string } }>(res)).error;
    expect(err.code).toBe('invalid_params');
    expect(err.message).toMatch(/not a PNG, JPEG or WebP/);
  });
});
