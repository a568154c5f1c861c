// Model downloads, usable without a server (scripts/download-model.ts calls `downloadModel`):
// resolve the source, pick a safe file name in the type's folder, refuse when the disk lacks
// room, transfer into a hidden `.part` file (resuming), verify size, sha256 and the safetensors
// header (or, for .ckpt/.pt, that the restricted reader accepts its pickle), then move it into place without ever replacing an existing file. A single-file SD1
// checkpoint also gets the CLIP tokenizer it needs, once.
//
// Partial files: a failed transfer keeps `.<name>.part` so the same download resumes later; a
// cancelled one, a checksum mismatch and a file that is not what it claims delete it.
import { existsSync } from 'node:fs';
import { link, mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { SafetensorsFile } from '../../../native/io/safetensors.js';
import { openTorchFile, stateDictTensors, type TorchFile } from '../../../native/io/torch-file.js';
import { detectFamily } from '../../../native/models/family.js';
import type { ModelType } from '../../protocol/actions.js';
import { EaselError, isEaselError } from '../../protocol/errors.js';
import { hashModelFile } from '../../../native/models/file-hashes.js';
import { MODEL_FOLDERS } from '../folders.js';
import { addressPolicy, type AddressPolicy } from './address-guard.js';
import { availableBytes } from './disk-space.js';
import { fileNameFromDisposition, fileNameFromUrl, hasModelExtension, sanitizeModelFileName } from './file-names.js';
import { openUrl } from './http-client.js';
import { DEFAULT_CIVITAI_ENDPOINT, DEFAULT_HF_ENDPOINT, parseHfSource, resolveSource, type SourceContext } from './sources.js';
import { ensureTokenizer, tokenizerDir } from './tokenizer.js';
import { transfer } from './transfer.js';
import { downloadRepoFolder } from './repo-folder.js';

export interface DownloadRequest {
  source: string;
  type: ModelType | 'tokenizer';
  filename?: string;
  sha256?: string;
  revision?: string;
}

export interface DownloadProgress {
  received_bytes: number;
  total_bytes: number | null;
  speed_bps: number;
  eta_s: number | null;
}

export interface DownloadOptions {
  modelsDir: string;
  hfToken?: string;
  civitaiToken?: string;
  /** Allow loopback/private addresses (ALLOW_PRIVATE_DOWNLOADS; tests). */
  allowPrivate?: boolean;
  /** Overrides for tests: base URLs of the Hugging Face and Civitai endpoints. */
  hfEndpoint?: string;
  civitaiEndpoint?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** The most bytes $MODELS_DIR may hold in total (DOWNLOAD_QUOTA_BYTES; 0/undefined = none). */
  quotaBytes?: number;
  /** Free space kept on the disk (default 512 MiB). */
  diskMarginBytes?: number;
  /** Fetch the CLIP tokenizer after an SD1 checkpoint (default true). */
  fetchTokenizer?: boolean;
  /** Waits between retries of a dropped transfer (default 1 s, 4 s, 15 s). */
  retryDelaysMs?: readonly number[];
  /** Replaces the address check entirely (tests of the guard's redirect handling). */
  addressPolicy?: AddressPolicy;
  /** Called once the file name and type are known (before the transfer starts). */
  onResolved?: (info: { name: string; type: ModelType | 'tokenizer'; total_bytes: number | null }) => void;
}

export interface DownloadResult {
  path: string;
  name: string;
  type: ModelType | 'tokenizer';
  sha256: string;
  size_bytes: number;
  /** The transfer continued an earlier partial file. */
  resumed?: boolean;
  /** The file was already there with the expected sha256; nothing was transferred. */
  existing?: boolean;
  /** Things that went wrong without failing the download (e.g. the tokenizer fetch). */
  warnings?: string[];
}

/** Targets being written by this process: two downloads of one file would corrupt its partial. */
const inFlight = new Set<string>();

async function probeFileName(url: string, headers: Record<string, string>, policy: AddressPolicy, signal?: AbortSignal): Promise<string | undefined> {
  const { res, url: final } = await openUrl(url, { headers, policy, signal });
  res.destroy();
  const fromHeader = fileNameFromDisposition(res.headers['content-disposition']);
  if (hasModelExtension(fromHeader)) return fromHeader;
  const fromUrl = fileNameFromUrl(final);
  return hasModelExtension(fromUrl) ? fromUrl : undefined;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The sha256 Hugging Face sends for LFS files on the resolve redirect (`x-linked-etag: "<sha256>"`). */
function linkedEtag(headerSets: readonly Record<string, string | string[] | undefined>[]): string | undefined {
  for (const h of headerSets) {
    const v = h['x-linked-etag'];
    const s = (Array.isArray(v) ? v[0] : v)?.replace(/^W\//, '').replace(/"/g, '');
    if (s && /^[0-9a-f]{64}$/i.test(s)) return s.toLowerCase();
  }
  return undefined;
}

/** Checks that a .safetensors file parses; returns its keys' family (for the tokenizer decision). */
async function checkSafetensors(path: string): Promise<string> {
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(path);
  } catch (err) {
    throw new EaselError('bad_model_file', `the downloaded file is not a valid .safetensors file: ${(err as Error).message}`);
  }
  try {
    return detectFamily(file.keys()).family;
  } finally {
    await file.close();
  }
}

/**
 * Opens a .ckpt/.pt/.pth/.bin through the restricted torch reader, so a file whose pickle asks for
 * anything but tensors is refused at download time rather than kept; returns its family.
 */
async function checkTorchFile(path: string): Promise<string> {
  let file: TorchFile;
  try {
    file = await openTorchFile(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'unsafe_pickle') {
      throw new EaselError('unsafe_model_file', `the downloaded file was refused and deleted: ${(err as Error).message}`);
    }
    throw new EaselError('bad_model_file', `the downloaded file is not a readable PyTorch file: ${(err as Error).message}`);
  }
  try {
    return detectFamily(stateDictTensors(file.root).keys()).family;
  } finally {
    await file.close();
  }
}

/** Moves the verified partial into place, never replacing a file that appeared meanwhile. */
async function publish(part: string, target: string): Promise<void> {
  try {
    await link(part, target);
    await unlink(part);
    return;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EEXIST') throw new EaselError('conflict', `${basename(target)} already exists; delete it or choose another filename`, { field: 'filename' });
    // File systems without hard links (FUSE mounts such as Google Drive): check, then rename.
    if (existsSync(target)) throw new EaselError('conflict', `${basename(target)} already exists; delete it or choose another filename`, { field: 'filename' });
    await rename(part, target);
  }
}

async function downloadTokenizer(req: DownloadRequest, opts: DownloadOptions, ctx: SourceContext): Promise<DownloadResult> {
  if (!req.source.startsWith('hf:')) throw new EaselError('invalid_params', 'a tokenizer comes from hf:owner/repo', { field: 'source' });
  const ref = parseHfSource(req.source, req.revision);
  const { dir } = await ensureTokenizer({
    modelsDir: opts.modelsDir,
    hfEndpoint: ctx.hfEndpoint,
    hfToken: opts.hfToken,
    policy: ctx.policy,
    signal: opts.signal,
    retryDelaysMs: opts.retryDelaysMs,
    repo: ref.repo,
    revision: ref.revision,
  });
  const vocab = join(dir, 'vocab.json');
  const hashes = await hashModelFile(vocab);
  return { path: dir, name: basename(dir), type: 'tokenizer', sha256: hashes.sha256, size_bytes: await sizeOf(vocab) };
}

/**
 * The checks that need no network, so a server can refuse a bad request in its ack instead of
 * queueing a download that can only fail.
 *
 * @throws EaselError invalid_params naming the field
 */
export function checkDownloadRequest(req: DownloadRequest): void {
  if (req.type === 'prompt_expander') {
    if (!req.source.startsWith('hf:') || parseHfSource(req.source, req.revision).path) {
      throw new EaselError('invalid_params', 'a prompt expander is a whole Hugging Face repository: hf:owner/repo', { field: 'source' });
    }
  } else if (req.source.startsWith('hf:')) {
    const ref = parseHfSource(req.source, req.revision);
    if (req.type !== 'tokenizer' && !ref.path) throw new EaselError('invalid_params', 'an hf source needs the file path: hf:owner/repo/path/in/repo', { field: 'source' });
  } else if (req.type === 'tokenizer') {
    throw new EaselError('invalid_params', 'a tokenizer comes from hf:owner/repo', { field: 'source' });
  }
  if (req.filename !== undefined) sanitizeModelFileName(req.filename);
}

/**
 * Downloads one model into `$MODELS_DIR/<type folder>/`.
 *
 * @example await downloadModel({ source: 'hf:stabilityai/sd-vae-ft-mse-original/vae-ft-mse-840000-ema-pruned.safetensors', type: 'vae' }, { modelsDir: './models' })
 * @throws EaselError invalid_params, forbidden_address, not_found, conflict, insufficient_space, checksum_mismatch, bad_model_file, unsafe_model_file, download_failed, cancelled
 */
export async function downloadModel(req: DownloadRequest, opts: DownloadOptions): Promise<DownloadResult> {
  const policy = opts.addressPolicy ?? addressPolicy(opts.allowPrivate ?? false);
  const ctx: SourceContext = {
    hfEndpoint: opts.hfEndpoint ?? DEFAULT_HF_ENDPOINT,
    civitaiEndpoint: opts.civitaiEndpoint ?? DEFAULT_CIVITAI_ENDPOINT,
    hfToken: opts.hfToken,
    civitaiToken: opts.civitaiToken,
    policy,
    signal: opts.signal,
  };
  if (req.type === 'tokenizer') return downloadTokenizer(req, opts, ctx);
  if (req.type === 'prompt_expander') {
    const r = await downloadRepoFolder({
      source: req.source,
      revision: req.revision,
      type: req.type,
      modelsDir: opts.modelsDir,
      hfEndpoint: ctx.hfEndpoint,
      hfToken: opts.hfToken,
      policy,
      signal: opts.signal,
      retryDelaysMs: opts.retryDelaysMs,
      onProgress: opts.onProgress,
      onResolved: opts.onResolved,
    });
    return { ...r, type: req.type };
  }
  if (!(req.type in MODEL_FOLDERS)) throw new EaselError('invalid_params', `unknown model type "${String(req.type)}"`, { field: 'type' });

  const resolved = await resolveSource(req, ctx);
  const type = resolved.type ?? req.type;
  let rawName = req.filename ?? (hasModelExtension(resolved.filename) ? resolved.filename : undefined);
  rawName ??= await probeFileName(resolved.url, resolved.headers, policy, opts.signal);
  if (rawName === undefined) throw new EaselError('invalid_params', 'the source does not name a model file; give a filename', { field: 'filename' });
  const name = sanitizeModelFileName(rawName);

  const given = req.sha256?.toLowerCase();
  if (given && resolved.sha256 && given !== resolved.sha256) {
    throw new EaselError('checksum_mismatch', `the sha256 given (${given}) differs from the one the source states (${resolved.sha256})`, { field: 'sha256' });
  }
  let expectedSha = given ?? resolved.sha256;

  const folder = resolve(opts.modelsDir, MODEL_FOLDERS[type]);
  const target = join(folder, name);
  if (!target.startsWith(folder + sep)) throw new EaselError('invalid_params', 'the file name leaves the model folder', { field: 'filename' });
  await mkdir(folder, { recursive: true });

  if (existsSync(target)) {
    // Re-running the same download (a setup script, a second click) is not an error when the file is the one asked for.
    if (expectedSha) {
      const have = await hashModelFile(target);
      if (have.sha256 === expectedSha) return { path: target, name, type, sha256: have.sha256, size_bytes: await sizeOf(target), existing: true };
    }
    throw new EaselError('conflict', `${MODEL_FOLDERS[type]}/${name} already exists; delete it or choose another filename`, { field: 'filename' });
  }
  if (inFlight.has(target)) throw new EaselError('conflict', `${MODEL_FOLDERS[type]}/${name} is already being downloaded`, { field: 'filename' });
  inFlight.add(target);
  const part = join(folder, `.${name}.part`);
  try {
    const have = await sizeOf(part);
    const free = await availableBytes({ modelsDir: opts.modelsDir, quotaBytes: opts.quotaBytes, marginBytes: opts.diskMarginBytes });
    const announced = resolved.size ?? resolved.approxSize;
    const refuse = (total: number): EaselError =>
      new EaselError('insufficient_space', `not enough room for ${name}: it needs ${total - have} more bytes, ${free} are available${opts.quotaBytes ? ' under the download quota' : ''}`);
    if (announced !== undefined && announced - have > free) throw refuse(announced);
    opts.onResolved?.({ name, type, total_bytes: resolved.size ?? null });

    const result = await transfer({
      url: resolved.url,
      headers: resolved.headers,
      partPath: part,
      policy,
      signal: opts.signal,
      onProgress: opts.onProgress,
      maxBytes: have + free,
      beforeBody: async ({ total }) => {
        if (total !== null && total - have > free) throw refuse(total);
      },
      ...(opts.retryDelaysMs ? { retryDelaysMs: opts.retryDelaysMs } : {}),
    });

    if (!expectedSha && resolved.hfLfs) expectedSha = linkedEtag([...result.redirects, result.headers]);
    if (resolved.size !== undefined && result.size !== resolved.size) {
      await rm(part, { force: true });
      throw new EaselError('download_failed', `${name}: received ${result.size} bytes, the source states ${resolved.size}`);
    }
    if (expectedSha && result.sha256 !== expectedSha) {
      await rm(part, { force: true });
      throw new EaselError('checksum_mismatch', `${name}: sha256 ${result.sha256} does not match the expected ${expectedSha}; the file was deleted`, { field: 'sha256' });
    }
    let family = 'unknown';
    const lower = name.toLowerCase();
    const check = lower.endsWith('.safetensors') ? checkSafetensors : /\.(ckpt|pt|pth|bin)$/.test(lower) ? checkTorchFile : undefined;
    if (check) {
      try {
        family = await check(part);
      } catch (err) {
        await rm(part, { force: true });
        throw err;
      }
    }
    await publish(part, target);

    const out: DownloadResult = { path: target, name, type, sha256: result.sha256, size_bytes: result.size, resumed: result.resumed };
    if (type === 'checkpoint' && family === 'sd1' && opts.fetchTokenizer !== false) {
      try {
        await ensureTokenizer({ modelsDir: opts.modelsDir, hfEndpoint: ctx.hfEndpoint, hfToken: opts.hfToken, policy, signal: opts.signal, retryDelaysMs: opts.retryDelaysMs });
      } catch (err) {
        out.warnings = [`the CLIP tokenizer could not be fetched into ${tokenizerDir(opts.modelsDir)}: ${(err as Error).message}`];
      }
    }
    return out;
  } catch (err) {
    if (opts.signal?.aborted) {
      await rm(part, { force: true });
      throw isEaselError(err) && err.code === 'cancelled' ? err : new EaselError('cancelled', 'the download was cancelled');
    }
    throw err;
  } finally {
    inFlight.delete(target);
  }
}

export { isPublicAddress, addressPolicy } from './address-guard.js';
export type { AddressPolicy } from './address-guard.js';
export { sanitizeModelFileName } from './file-names.js';
