// The one HTTP client of downloads (node:http/https, not fetch, because the SSRF guard needs its
// own DNS lookup on every connection): follows redirects by hand so each hop's address is
// checked, and drops credentials when a redirect leaves the host they were meant for (Hugging
// Face and Civitai both redirect to signed CDN URLs that must not see the token).
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EaselError } from '../../protocol/errors.js';
import { checkUrlHost, guardedLookup, type AddressPolicy } from './address-guard.js';

const MAX_REDIRECTS = 10;
/** A connection silent this long is dropped (and retried by the transfer). */
export const IDLE_TIMEOUT_MS = 60_000;
const USER_AGENT = 'Easel/0.1 (+model download)';

export interface RequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
  policy: AddressPolicy;
  idleTimeoutMs?: number;
}

export interface OpenedResponse {
  res: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
  /** Headers of every redirect answer on the way, first hop first. */
  redirects: IncomingHttpHeaders[];
}

/** An error worth retrying (network trouble, 5xx, 429), as opposed to a refusal. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

function once(url: URL, opts: RequestOptions, headers: Record<string, string>): Promise<IncomingMessage> {
  checkUrlHost(url, opts.policy);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'GET',
      headers: { 'user-agent': USER_AGENT, ...headers },
      lookup: guardedLookup(opts.policy) as never,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    req.setTimeout(opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS, () => req.destroy(new TransientError(`no data from ${url.host} for ${(opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS) / 1000} s`)));
    req.once('response', resolve);
    req.once('error', (err) => reject(err));
    req.end(opts.body);
  });
}

/**
 * Sends a request and follows redirects; resolves with the first non-redirect response (any
 * status: the caller decides). The body of that response must be consumed or destroyed.
 *
 * @example const { res } = await openUrl('https://huggingface.co/...', { policy, headers: { range: 'bytes=100-' } })
 */
export async function openUrl(start: string | URL, opts: RequestOptions): Promise<OpenedResponse> {
  let url = new URL(start);
  const origin = url.host;
  const redirects: IncomingHttpHeaders[] = [];
  let headers = { ...(opts.headers ?? {}) };
  let method = opts.method ?? 'GET';
  let body = opts.body;
  for (let hop = 0; ; hop++) {
    const res = await once(url, { ...opts, method, ...(body === undefined ? {} : { body }) }, headers);
    const status = res.statusCode ?? 0;
    if (![301, 302, 303, 307, 308].includes(status)) return { res, url, redirects };
    res.resume();
    const location = res.headers.location;
    if (!location) throw new EaselError('download_failed', `${url.host} answered ${status} without a Location`);
    if (hop >= MAX_REDIRECTS) throw new EaselError('download_failed', `more than ${MAX_REDIRECTS} redirects from ${origin}`);
    redirects.push(res.headers);
    const next = new URL(location, url);
    // Once on https, every later hop must be too: a redirect to cleartext (or another scheme) would
    // let anyone on the path read or swap the file. Only an operator's own http endpoint (a mirror,
    // a test host) starts on http.
    if (url.protocol === 'https:' && next.protocol !== 'https:') {
      throw new EaselError('forbidden_address', `${url.host} redirected to ${next.protocol}//${next.host}: downloads never leave https`);
    }
    if (next.host !== origin) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !['authorization', 'cookie'].includes(k.toLowerCase())));
    }
    if (status === 303) {
      method = 'GET';
      body = undefined;
    }
    url = next;
  }
}

/** Reads a whole (small) body as text, refusing more than `maxBytes`. */
export async function readText(res: IncomingMessage, maxBytes = 8 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (n > maxBytes) {
      res.destroy();
      throw new EaselError('download_failed', `response larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Throws the error that fits a failed HTTP status; `what` names the request in the message. */
export function statusError(status: number, what: string, hint = ''): Error {
  const msg = `${what}: HTTP ${status}${hint ? ` (${hint})` : ''}`;
  if (status === 429 || status >= 500) return new TransientError(msg);
  if (status === 401 || status === 403) return new EaselError('download_failed', `${msg}; the file may need an access token (HF_TOKEN or CIVITAI_TOKEN)`);
  if (status === 404) return new EaselError('not_found', msg);
  return new EaselError('download_failed', msg);
}

/** GETs (or POSTs) JSON through the guard. */
export async function requestJson(url: string, opts: RequestOptions, what: string): Promise<unknown> {
  const { res } = await openUrl(url, { ...opts, headers: { accept: 'application/json', ...opts.headers } });
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    res.resume();
    throw statusError(status, what);
  }
  const text = await readText(res);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EaselError('download_failed', `${what}: the answer is not JSON`);
  }
}
