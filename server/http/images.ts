// REST routes of the gallery. `createImageRoutes` is mounted at /api behind the token: list, get,
// delete, zip of a selection, and png-info (A1111's /sdapi/v1/png-info answer, plus ComfyUI and
// InvokeAI metadata). `createFileRoutes` is mounted at /files without the token: an <img> tag
// cannot send one, so the signed URL is the credential.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { IMAGE_ID_PATTERN } from '../gallery/gallery-files.js';
import type { GalleryStore } from '../gallery/gallery-store.js';
import { imageFilePath, thumbFilePath, toWireImage } from '../gallery/wire-image.js';
import { readImageMetadata } from '../infotext/image-metadata.js';
import { parseGenerationParameters } from '../infotext/parse-infotext.js';
import { ImageFormatError } from '../infotext/png-chunks.js';
import { EaselError, isEaselError, zodToEaselError } from '../protocol/errors.js';
import { GalleryQuerySchema, PngInfoRequestSchema, ZipImagesSchema, type GalleryPage, type PngInfoResponse } from '../protocol/gallery.js';
import type { UrlSigner } from '../security/signed-url.js';

export interface ImageRouteDeps {
  store: GalleryStore;
  signer: UrlSigner;
  /** Body limit for png-info when no parser ran before this router (base64 grows images by 4/3). */
  jsonLimitBytes?: number;
}

const DEFAULT_JSON_LIMIT_BYTES = 48 * 1024 * 1024;
/** Image bytes never change for an id, so browsers may keep them as long as the URL is valid. */
const FILE_CACHE_CONTROL = 'private, max-age=86400, immutable';
const DATA_URL_PREFIX = /^data:[\w/+.-]+;base64,/;

const STATUS_BY_CODE: Record<string, number> = { invalid_params: 400, forbidden: 403, not_found: 404 };

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw zodToEaselError(r.error);
  return r.data;
}

function imageId(req: Request): string {
  const id = String(req.params['id'] ?? '');
  if (!IMAGE_ID_PATTERN.test(id)) throw new EaselError('invalid_params', 'id: must be an image id (letters, digits, _ and -)', { field: 'id' });
  return id;
}

/** Answers errors of these routes as `{ error: { code, message, field? } }`, like the rest of the API. */
function errorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  if (err instanceof ImageFormatError) {
    res.status(400).json({ error: { code: 'invalid_params', message: `image: ${err.message}`, field: 'image' } });
    return;
  }
  if (isEaselError(err) && STATUS_BY_CODE[err.code] !== undefined) {
    res.status(STATUS_BY_CODE[err.code]!).json({ error: err.toWire() });
    return;
  }
  next(err);
}

/** Base64 or a data URL → bytes; A1111 accepts both. */
function decodeBase64Image(text: string): Buffer {
  const b64 = text.replace(DATA_URL_PREFIX, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw new EaselError('invalid_params', 'image: not base64 or a base64 data URL', { field: 'image' });
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) throw new EaselError('invalid_params', 'image: empty', { field: 'image' });
  return bytes;
}

export function pngInfo(bytes: Uint8Array): PngInfoResponse {
  const meta = readImageMetadata(bytes);
  const info = meta.parameters ?? '';
  const out: PngInfoResponse = { info, items: meta.items, parameters: parseGenerationParameters(info).fields };
  if (meta.comfyui) out.comfyui = meta.comfyui;
  if (meta.invokeai) out.invokeai = meta.invokeai;
  return out;
}

/**
 * @example app.use('/api', requireToken(token), createImageRoutes({ store, signer }))
 */
export function createImageRoutes(deps: ImageRouteDeps): Router {
  const { store, signer } = deps;
  const router = express.Router();
  router.use(express.json({ limit: deps.jsonLimitBytes ?? DEFAULT_JSON_LIMIT_BYTES }));

  router.get('/images', (req, res) => {
    const page = store.list(parse(GalleryQuerySchema, req.query));
    const body: GalleryPage = { items: page.items.map((r) => toWireImage(r, signer)), next_cursor: page.next_cursor };
    res.json(body);
  });

  router.get('/images/:id', (req, res) => {
    const id = imageId(req);
    const record = store.get(id);
    if (!record) throw new EaselError('not_found', `no image ${id}`, { field: 'id' });
    res.json(toWireImage(record, signer));
  });

  router.delete('/images/:id', async (req, res) => {
    const id = imageId(req);
    const result = await store.delete([id]);
    if (result.deleted.length === 0) throw new EaselError('not_found', `no image ${id}`, { field: 'id' });
    res.json(result);
  });

  router.post('/images/zip', (req, res, next) => {
    const { ids } = parse(ZipImagesSchema, req.body);
    const found = ids.filter((id) => store.get(id) !== undefined);
    if (found.length === 0) throw new EaselError('not_found', 'none of these images exist', { field: 'ids' });
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="easel-${found.length}-images.zip"`);
    const stream = store.zip(found);
    stream.on('error', (err: Error) => (res.headersSent ? res.destroy(err) : next(err)));
    stream.pipe(res);
  });

  router.post('/png-info', (req, res) => {
    const { image } = parse(PngInfoRequestSchema, req.body);
    res.json(pngInfo(decodeBase64Image(image)));
  });

  router.use(errorHandler);
  return router;
}

/**
 * GET /images/:id and /thumbs/:id with `exp` and `sig` from `UrlSigner.sign`. Must be mounted at
 * `/files`, the prefix the signature covers. Expired or tampered → 403.
 */
export function createFileRoutes(deps: { store: GalleryStore; signer: UrlSigner }): Router {
  const { store, signer } = deps;
  const router = express.Router();

  const serve = (kind: 'images' | 'thumbs') => (req: Request, res: Response, next: NextFunction) => {
    const id = imageId(req);
    const exp = typeof req.query['exp'] === 'string' ? req.query['exp'] : undefined;
    const sig = typeof req.query['sig'] === 'string' ? req.query['sig'] : undefined;
    const signedPath = kind === 'images' ? imageFilePath(id) : thumbFilePath(id);
    if (!signer.verify(signedPath, exp, sig)) throw new EaselError('forbidden', 'this file link is invalid or has expired');
    const file = kind === 'images' ? store.filePath(id) : store.get(id) ? store.thumbPath(id) : undefined;
    if (!file) throw new EaselError('not_found', `no image ${id}`, { field: 'id' });
    res.sendFile(file, { headers: { 'Cache-Control': FILE_CACHE_CONTROL, 'X-Content-Type-Options': 'nosniff' } }, (err) => {
      if (!err) return;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !res.headersSent) next(new EaselError('not_found', `the file of image ${id} is missing`));
      else next(err);
    });
  };

  router.get('/images/:id', serve('images'));
  router.get('/thumbs/:id', serve('thumbs'));
  router.use(errorHandler);
  return router;
}
