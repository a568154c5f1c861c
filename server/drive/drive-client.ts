// The Drive calls Easel makes, as a small typed port (DriveApi) and its implementation over
// @googleapis/drive (the googleapis project's per-API package). Sync and restore speak only to the
// port; every failure leaves here as a DriveRequestError carrying the HTTP status, Google's error
// reason and Retry-After, so the retry policy (retry.ts) never digs through gaxios internals.
import { Readable } from 'node:stream';
import { drive, type drive_v3 } from '@googleapis/drive';
import type { DriveAuthClient } from './auth.js';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';
/** Fields read back on every file, so one list call is enough for restore. */
const FILE_FIELDS = 'id, name, mimeType, parents, description, appProperties, size';

export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  description: string;
  appProperties: Record<string, string>;
}

export interface NewDriveFile {
  name: string;
  parentId: string;
  mimeType: string;
  description: string;
  appProperties: Record<string, string>;
  body: Uint8Array;
}

/** The Drive v3 calls that sync and restore use. */
export interface DriveApi {
  /** A folder called `name` directly inside `parentId` (not trashed), if any. */
  findFolder(name: string, parentId: string): Promise<DriveFile | undefined>;
  createFolder(name: string, parentId: string): Promise<DriveFile>;
  /** The first non-trashed file whose app property `key` equals `value`. */
  findByAppProperty(key: string, value: string): Promise<DriveFile | undefined>;
  /** Every non-trashed child of a folder (all pages). */
  listChildren(parentId: string): Promise<DriveFile[]>;
  /** One multipart upload: metadata and bytes in one request. */
  upload(file: NewDriveFile): Promise<DriveFile>;
  download(fileId: string): Promise<Buffer>;
  /** One file's metadata (trashed files included). */
  getFile(fileId: string): Promise<DriveFile>;
  /** files.update without media: renames and/or merges app properties (keys not named are kept). */
  updateFile(fileId: string, patch: DriveFilePatch): Promise<DriveFile>;
}

export interface DriveFilePatch {
  name?: string;
  appProperties: Record<string, string>;
}

/** A failed Drive request, normalized. `status` is undefined for network failures. */
export class DriveRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    /** Google's `errors[0].reason`, e.g. `userRateLimitExceeded`. */
    readonly reason: string | undefined,
    readonly retryAfterS: number | undefined,
  ) {
    // No `cause`: gaxios errors carry the request config, Authorization header and token bodies
    // included, and a logged cause would leak them.
    super(message);
    this.name = 'DriveRequestError';
  }
}

/** Drive query literal: backslash and single quote escaped (https://developers.google.com/drive/api/guides/search-files). */
export function quoteQ(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface GaxiosLike {
  message?: string;
  code?: string | number;
  response?: { status?: number; headers?: unknown; data?: unknown };
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date). */
export function parseRetryAfter(raw: string | undefined, now = Date.now()): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/** Turns whatever gaxios threw into a DriveRequestError. */
export function toDriveError(err: unknown): DriveRequestError {
  if (err instanceof DriveRequestError) return err;
  const e = (err ?? {}) as GaxiosLike;
  const res = e.response;
  if (!res || typeof res.status !== 'number') {
    return new DriveRequestError(`network error: ${e.message ?? String(err)}`, undefined, undefined, undefined);
  }
  const body = res.data as { error?: { message?: string; errors?: Array<{ reason?: string }> } | string } | undefined;
  const apiError = typeof body?.error === 'object' ? body.error : undefined;
  const reason = apiError?.errors?.[0]?.reason ?? (typeof body?.error === 'string' ? body.error : undefined);
  const message = apiError?.message ?? e.message ?? `HTTP ${res.status}`;
  return new DriveRequestError(message, res.status, reason, parseRetryAfter(headerValue(res.headers, 'retry-after')));
}

function toFile(f: drive_v3.Schema$File): DriveFile {
  return {
    id: f.id ?? '',
    name: f.name ?? '',
    mimeType: f.mimeType ?? '',
    parents: f.parents ?? [],
    description: f.description ?? '',
    appProperties: Object.fromEntries(Object.entries(f.appProperties ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string')),
  };
}

export interface GoogleDriveOptions {
  auth: DriveAuthClient;
  /** API root; tests point it at the local fake. Default https://www.googleapis.com/. */
  rootUrl?: string;
}

/**
 * The DriveApi over @googleapis/drive. The library's own retries are off: retry.ts owns the policy
 * (it must also retry POST uploads, which gaxios never does, and refresh on 401 only once).
 *
 * @example const api = createGoogleDrive({ auth: await driveAuth.client(), rootUrl: config.driveApiRoot })
 */
export function createGoogleDrive(opts: GoogleDriveOptions): DriveApi {
  const client = drive({ version: 'v3', auth: opts.auth, retry: false, ...(opts.rootUrl ? { rootUrl: opts.rootUrl } : {}) });
  // The API-level rootUrl is not applied to upload URLs (googleapis-common builds `mediaUrl` from the
  // per-call options only), so every call passes it again.
  const callOpts = { retry: false, ...(opts.rootUrl ? { rootUrl: opts.rootUrl } : {}) };
  // supportsAllDrives lets DRIVE_PARENT_ID name a folder in a shared drive (what a service account needs).
  const shared = { supportsAllDrives: true } as const;

  const list = async (q: string, pageSize: number, all: boolean): Promise<DriveFile[]> => {
    const out: DriveFile[] = [];
    let pageToken: string | undefined;
    do {
      const res = await client.files
        .list({ q, pageSize, fields: `nextPageToken, files(${FILE_FIELDS})`, includeItemsFromAllDrives: true, ...shared, ...(pageToken ? { pageToken } : {}) }, callOpts)
        .catch((err: unknown) => {
          throw toDriveError(err);
        });
      for (const f of res.data.files ?? []) out.push(toFile(f));
      pageToken = all ? (res.data.nextPageToken ?? undefined) : undefined;
    } while (pageToken);
    return out;
  };

  return {
    async findFolder(name, parentId) {
      const q = `name = ${quoteQ(name)} and mimeType = ${quoteQ(FOLDER_MIME)} and ${quoteQ(parentId)} in parents and trashed = false`;
      return (await list(q, 10, false))[0];
    },
    async createFolder(name, parentId) {
      const res = await client.files
        .create({ requestBody: { name, mimeType: FOLDER_MIME, parents: [parentId] }, fields: FILE_FIELDS, ...shared }, callOpts)
        .catch((err: unknown) => {
          throw toDriveError(err);
        });
      return toFile(res.data);
    },
    async findByAppProperty(key, value) {
      const q = `appProperties has { key=${quoteQ(key)} and value=${quoteQ(value)} } and trashed = false`;
      return (await list(q, 10, false))[0];
    },
    listChildren(parentId) {
      return list(`${quoteQ(parentId)} in parents and trashed = false`, 1000, true);
    },
    async upload(file) {
      const res = await client.files
        .create({
          requestBody: { name: file.name, mimeType: file.mimeType, parents: [file.parentId], description: file.description, appProperties: file.appProperties },
          // googleapis-common pipes the body into its multipart stream, so it must be a stream.
          media: { mimeType: file.mimeType, body: Readable.from([Buffer.from(file.body.buffer, file.body.byteOffset, file.body.byteLength)]) },
          fields: FILE_FIELDS,
          ...shared,
        }, callOpts)
        .catch((err: unknown) => {
          throw toDriveError(err);
        });
      return toFile(res.data);
    },
    async download(fileId) {
      const res = await client.files.get({ fileId, alt: 'media', ...shared }, { ...callOpts, responseType: 'arraybuffer' }).catch((err: unknown) => {
        throw toDriveError(err);
      });
      return Buffer.from(res.data as unknown as ArrayBuffer);
    },
    async getFile(fileId) {
      const res = await client.files.get({ fileId, fields: FILE_FIELDS, ...shared }, callOpts).catch((err: unknown) => {
        throw toDriveError(err);
      });
      return toFile(res.data);
    },
    async updateFile(fileId, patch) {
      // Without `media` this is a metadata-only PATCH; Drive merges appProperties key by key.
      const requestBody = { appProperties: patch.appProperties, ...(patch.name !== undefined ? { name: patch.name } : {}) };
      const res = await client.files.update({ fileId, requestBody, fields: FILE_FIELDS, ...shared }, callOpts).catch((err: unknown) => {
        throw toDriveError(err);
      });
      return toFile(res.data);
    },
  };
}
