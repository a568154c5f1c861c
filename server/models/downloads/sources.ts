// Turns a download source into a URL plus what its host knows about the file: `hf:owner/repo/path`
// (Hugging Face `resolve` URL; size and LFS sha256 from the `paths-info` API), `civitai:<versionId>`
// and Civitai page or download URLs (file, type and SHA256 from the public API v1), or a plain
// https URL. Endpoints are options so tests can point them at a local server.
import type { ModelType } from '../../protocol/actions.js';
import { EaselError } from '../../protocol/errors.js';
import type { AddressPolicy } from './address-guard.js';
import { requestJson } from './http-client.js';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_CIVITAI_ENDPOINT = 'https://civitai.com';

export interface SourceContext {
  hfEndpoint: string;
  civitaiEndpoint: string;
  hfToken?: string | undefined;
  civitaiToken?: string | undefined;
  policy: AddressPolicy;
  signal?: AbortSignal | undefined;
}

export interface ResolvedSource {
  url: string;
  /** Sent to the first host only (dropped on a redirect to another host). */
  headers: Record<string, string>;
  /** The name the source gives the file (before sanitising). */
  filename?: string;
  /** Expected sha256, lower-case hex. */
  sha256?: string;
  /** Exact size in bytes when the source states it. */
  size?: number;
  /** A size estimate for the disk-space check (Civitai gives KB as a float). */
  approxSize?: number;
  /** The model type the source declares (Civitai); wins over the request's. */
  type?: ModelType;
  /** Hugging Face: an LFS file's sha256 may also come from `x-linked-etag` on the redirect. */
  hfLfs?: boolean;
}

export interface HfRef {
  repo: string;
  path: string;
  revision: string;
}

/** Does a slash-separated name have a `.` or `..` part? */
export function hasDotSegment(name: string): boolean {
  return name.split(/[/\\]/).some((p) => p === '.' || p === '..');
}

/**
 * Parses `hf:owner/repo[@rev][/path][@rev]`; an explicit `revision` wins over `@rev`.
 *
 * @example parseHfSource('hf:runwayml/stable-diffusion-v1-5/v1-5-pruned-emaonly.safetensors') // { repo: 'runwayml/stable-diffusion-v1-5', path: 'v1-5-pruned-emaonly.safetensors', revision: 'main' }
 */
export function parseHfSource(source: string, revision?: string): HfRef {
  const m = /^hf:([\w.-]+)\/([\w.-]+)(?:@([\w.-]+))?(?:\/(.+?))?(?:@([\w.-]+))?$/.exec(source);
  if (!m) throw new EaselError('invalid_params', 'an hf source must look like hf:owner/repo/path/in/repo', { field: 'source' });
  const path = m[4] ?? '';
  if (hasDotSegment(path)) throw new EaselError('invalid_params', 'the path in an hf source must not contain . or .. parts', { field: 'source' });
  // The owner, repo and revision become URL path parts too: `..` there would climb out of the repo.
  if (hasDotSegment(m[1]!) || hasDotSegment(m[2]!) || m[1]!.includes('..') || m[2]!.includes('..')) throw new EaselError('invalid_params', 'the repo in an hf source must not be . or ..', { field: 'source' });
  const rev = revision ?? m[3] ?? m[5] ?? 'main';
  // Git refs never contain `..` (git check-ref-format), so any `..` in one is an attack.
  if (hasDotSegment(rev) || rev.includes('..')) throw new EaselError('invalid_params', 'revision must not contain . or .. parts', { field: revision === undefined ? 'source' : 'revision' });
  return { repo: `${m[1]}/${m[2]}`, path, revision: rev };
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

/** `<endpoint>/<owner>/<repo>/resolve/<rev>/<path>` */
export function hfResolveUrl(endpoint: string, ref: HfRef, path = ref.path): string {
  return `${endpoint.replace(/\/$/, '')}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${encodePath(path)}`;
}

interface HfPathInfo {
  type?: string;
  path?: string;
  size?: number;
  lfs?: { oid?: string; size?: number };
}

async function resolveHf(ref: HfRef, ctx: SourceContext): Promise<ResolvedSource> {
  if (!ref.path) throw new EaselError('invalid_params', 'an hf source needs the file path: hf:owner/repo/path/in/repo', { field: 'source' });
  const headers: Record<string, string> = ctx.hfToken ? { authorization: `Bearer ${ctx.hfToken}` } : {};
  const out: ResolvedSource = { url: hfResolveUrl(ctx.hfEndpoint, ref), headers, filename: ref.path.split('/').pop()!, hfLfs: true };
  let infos: unknown;
  try {
    infos = await requestJson(
      `${ctx.hfEndpoint.replace(/\/$/, '')}/api/models/${ref.repo}/paths-info/${encodeURIComponent(ref.revision)}`,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ paths: ref.path, expand: 'false' }).toString(),
        policy: ctx.policy,
        signal: ctx.signal,
      },
      'Hugging Face paths-info',
    );
  } catch (err) {
    // The API is a nicety: the download itself still works (and still checks x-linked-etag).
    // A 404 here can be a mirror without the API; the resolve request says whether the file exists.
    if (err instanceof EaselError && err.code === 'forbidden_address') throw err;
    return out;
  }
  if (Array.isArray(infos)) {
    const info = (infos as HfPathInfo[]).find((i) => i.path === ref.path);
    if (!info) throw new EaselError('not_found', `${ref.repo}@${ref.revision} has no file ${ref.path}`, { field: 'source' });
    if (info.type === 'directory') throw new EaselError('invalid_params', `${ref.path} in ${ref.repo} is a folder, not a file`, { field: 'source' });
    const sha = info.lfs?.oid;
    if (typeof sha === 'string' && /^[0-9a-f]{64}$/i.test(sha)) out.sha256 = sha.toLowerCase();
    const size = info.lfs?.size ?? info.size;
    if (typeof size === 'number' && Number.isSafeInteger(size)) out.size = size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Civitai

const CIVITAI_TYPES: Record<string, ModelType> = {
  checkpoint: 'checkpoint',
  lora: 'lora',
  locon: 'lora',
  dora: 'lora',
  lycoris: 'lora',
  textualinversion: 'embedding',
  vae: 'vae',
  controlnet: 'controlnet',
  upscaler: 'upscaler',
  detection: 'detector',
};

/** Civitai's model type (`LORA`, `TextualInversion`, ...) → Easel's, or undefined when Easel has no folder for it. */
export function civitaiModelType(t: string | undefined): ModelType | undefined {
  return t ? CIVITAI_TYPES[t.toLowerCase()] : undefined;
}

interface CivitaiFile {
  name?: string;
  type?: string;
  primary?: boolean;
  sizeKB?: number;
  downloadUrl?: string;
  hashes?: Record<string, string>;
  metadata?: { format?: string };
}
interface CivitaiVersion {
  id?: number;
  name?: string;
  model?: { name?: string; type?: string };
  files?: CivitaiFile[];
  downloadUrl?: string;
}
interface CivitaiModel {
  id?: number;
  type?: string;
  modelVersions?: CivitaiVersion[];
}

/** The version id or model id a Civitai source names. */
export function parseCivitaiSource(source: string, civitaiEndpoint: string): { versionId?: number; modelId?: number } | undefined {
  const short = /^civitai:(\d+)$/.exec(source);
  if (short) return { versionId: Number(short[1]) };
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return undefined;
  }
  const hosts = new Set(['civitai.com', 'www.civitai.com', new URL(civitaiEndpoint).host]);
  if (!hosts.has(url.host)) return undefined;
  const download = /^\/api\/download\/models\/(\d+)/.exec(url.pathname);
  if (download) return { versionId: Number(download[1]) };
  const page = /^\/models\/(\d+)/.exec(url.pathname);
  if (!page) return undefined;
  const v = url.searchParams.get('modelVersionId');
  return v && /^\d+$/.test(v) ? { versionId: Number(v) } : { modelId: Number(page[1]) };
}

/** The file to fetch: the primary one, else the first model file, safetensors preferred. */
function pickFile(files: CivitaiFile[]): CivitaiFile | undefined {
  const models = files.filter((f) => f.type === undefined || f.type === 'Model' || f.type === 'Pruned Model');
  return (
    files.find((f) => f.primary) ??
    models.find((f) => f.metadata?.format === 'SafeTensor') ??
    models[0] ??
    files[0]
  );
}

async function resolveCivitai(ids: { versionId?: number; modelId?: number }, ctx: SourceContext): Promise<ResolvedSource> {
  const base = ctx.civitaiEndpoint.replace(/\/$/, '');
  const headers: Record<string, string> = ctx.civitaiToken ? { authorization: `Bearer ${ctx.civitaiToken}` } : {};
  const opts = { headers, policy: ctx.policy, signal: ctx.signal };
  let version: CivitaiVersion;
  let declaredType: string | undefined;
  if (ids.versionId !== undefined) {
    version = (await requestJson(`${base}/api/v1/model-versions/${ids.versionId}`, opts, `Civitai model version ${ids.versionId}`)) as CivitaiVersion;
    declaredType = version.model?.type;
  } else {
    const model = (await requestJson(`${base}/api/v1/models/${ids.modelId}`, opts, `Civitai model ${ids.modelId}`)) as CivitaiModel;
    const latest = model.modelVersions?.[0];
    if (!latest) throw new EaselError('not_found', `Civitai model ${ids.modelId} has no versions`, { field: 'source' });
    version = latest;
    declaredType = model.type;
  }
  const file = pickFile(version.files ?? []);
  const url = file?.downloadUrl ?? version.downloadUrl;
  if (!url) throw new EaselError('not_found', `Civitai version ${version.id ?? ids.versionId} lists no downloadable file`, { field: 'source' });
  const type = civitaiModelType(declaredType);
  if (declaredType && !type) {
    throw new EaselError('invalid_params', `Civitai model type "${declaredType}" has no folder in Easel (checkpoints, LoRAs, embeddings, VAEs, ControlNets, upscalers, detectors)`, {
      field: 'source',
    });
  }
  const out: ResolvedSource = { url, headers };
  if (file?.name) out.filename = file.name;
  if (type) out.type = type;
  const sha = file?.hashes?.SHA256 ?? file?.hashes?.sha256;
  if (sha && /^[0-9a-f]{64}$/i.test(sha)) out.sha256 = sha.toLowerCase();
  if (typeof file?.sizeKB === 'number' && file.sizeKB > 0) out.approxSize = Math.ceil(file.sizeKB * 1024);
  return out;
}

// ---------------------------------------------------------------------------------------------

/** `https://huggingface.co/owner/repo/(resolve|blob)/rev/path` → the hf reference, so its sha256 is checked too. */
function hfRefFromUrl(source: string, hfEndpoint: string): HfRef | undefined {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return undefined;
  }
  if (url.host !== 'huggingface.co' && url.host !== new URL(hfEndpoint).host) return undefined;
  const m = /^\/([\w.-]+)\/([\w.-]+)\/(?:resolve|blob)\/([^/]+)\/(.+)$/.exec(url.pathname);
  if (!m) return undefined;
  const dec = (s: string): string => decodeURIComponent(s);
  return { repo: `${m[1]}/${m[2]}`, revision: dec(m[3]!), path: m[4]!.split('/').map(dec).join('/') };
}

/**
 * Resolves a source to a download URL and what is known about the file.
 *
 * @example await resolveSource({ source: 'civitai:128713' }, ctx) // { url, sha256, type: 'checkpoint', filename, ... }
 */
export async function resolveSource(req: { source: string; revision?: string | undefined }, ctx: SourceContext): Promise<ResolvedSource> {
  if (req.source.startsWith('hf:')) return resolveHf(parseHfSource(req.source, req.revision), ctx);
  if (req.source.startsWith('civitai:')) {
    const ids = parseCivitaiSource(req.source, ctx.civitaiEndpoint);
    if (!ids) throw new EaselError('invalid_params', 'a civitai source must be civitai:<modelVersionId>', { field: 'source' });
    return resolveCivitai(ids, ctx);
  }
  let url: URL;
  try {
    url = new URL(req.source);
  } catch {
    throw new EaselError('invalid_params', 'source must be an https URL, hf:owner/repo/path or civitai:<versionId>', { field: 'source' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EaselError('invalid_params', `only http and https downloads are allowed, got ${url.protocol}`, { field: 'source' });
  }
  const civitai = parseCivitaiSource(req.source, ctx.civitaiEndpoint);
  if (civitai) return resolveCivitai(civitai, ctx);
  const hf = hfRefFromUrl(req.source, ctx.hfEndpoint);
  if (hf) return resolveHf(req.revision ? { ...hf, revision: req.revision } : hf, ctx);
  const last = url.pathname.split('/').pop();
  return { url: url.toString(), headers: {}, ...(last ? { filename: decodeURIComponent(last) } : {}) };
}
