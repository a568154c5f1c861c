// The REST calls the app makes (GET /api/health, GET /api/info, POST /api/images/zip, the optional
// POST /api/tokenize): token as `Authorization: Bearer`, errors turned into EaselClientError with
// the server's code. Gallery file URLs are signed and fetched without the token.
import { EaselClientError, type ClientErrorCode } from './errors.js';

export interface RestTarget {
  serverUrl: string;
  token: string;
}

/** Joins the server URL and an API path, keeping any path prefix of the server URL (tunnels). */
export function apiUrl(serverUrl: string, path: string): string {
  return `${serverUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Makes a signed `/files/...` URL from a gallery record absolute against the server URL. */
export function fileUrl(serverUrl: string, url: string): string {
  return /^https?:\/\//i.test(url) ? url : apiUrl(serverUrl, url);
}

async function errorFrom(res: Response): Promise<EaselClientError> {
  let body: { error?: { code?: string; message?: string; field?: string; retry_after_s?: number } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // Not JSON (a proxy's HTML page): the status says enough.
  }
  const code = (body.error?.code ?? (res.status === 401 ? 'unauthorized' : res.status === 429 ? 'rate_limited' : 'http_error')) as ClientErrorCode;
  const retry = body.error?.retry_after_s ?? (Number(res.headers.get('retry-after')) || undefined);
  const opts: { field?: string; retryAfterS?: number } = {};
  if (body.error?.field) opts.field = body.error.field;
  if (retry !== undefined) opts.retryAfterS = retry;
  return new EaselClientError(code, body.error?.message ?? `HTTP ${res.status} ${res.statusText}`, opts);
}

/** fetch with the token; rejects with EaselClientError on network failure or a non-2xx answer. */
export async function restFetch(target: RestTarget, path: string, init: RequestInit = {}): Promise<Response> {
  if (!target.serverUrl) throw new EaselClientError('not_configured', 'no server URL set');
  const headers = new Headers(init.headers);
  if (target.token) headers.set('Authorization', `Bearer ${target.token}`);
  let res: Response;
  try {
    res = await fetch(apiUrl(target.serverUrl, path), { ...init, headers });
  } catch (err) {
    throw new EaselClientError('network', `cannot reach ${target.serverUrl}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

export async function restJson<T>(target: RestTarget, path: string, init: RequestInit = {}): Promise<T> {
  return (await (await restFetch(target, path, init)).json()) as T;
}

export interface HealthInfo {
  ok?: boolean;
  status?: string;
  version?: string;
  [key: string]: unknown;
}

/**
 * "Test connection" in Settings: health (no token), then /api/info (token), so the message can
 * tell an unreachable server from a wrong token.
 */
export async function testConnection(target: RestTarget): Promise<{ ok: true; version: string } | { ok: false; error: EaselClientError }> {
  try {
    await restJson<HealthInfo>({ serverUrl: target.serverUrl, token: '' }, 'api/health');
    const info = await restJson<{ version?: string }>(target, 'api/info');
    return { ok: true, version: info.version ?? 'unknown' };
  } catch (err) {
    return { ok: false, error: err instanceof EaselClientError ? err : new EaselClientError('network', String(err)) };
  }
}

/** Streams the zip of a selection from the server (POST, so the ids need not fit in a URL). */
export async function downloadZip(target: RestTarget, ids: readonly string[]): Promise<Blob> {
  const res = await restFetch(target, 'api/images/zip', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ids }),
  });
  return res.blob();
}

/** Fetches a signed file (thumbnail or image) as a blob; the signature is the credential. */
export async function fetchFile(serverUrl: string, url: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(fileUrl(serverUrl, url));
  } catch (err) {
    throw new EaselClientError('network', `cannot fetch ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) throw await errorFrom(res);
  return res.blob();
}
