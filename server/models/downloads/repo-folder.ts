// Downloads a whole Hugging Face GPT-2 repository folder (`download_model { source: "hf:owner/repo",
// type: "prompt_expander" }`) into $MODELS_DIR/prompt-expanders/<repo name>/: config, weights
// (model.safetensors, else pytorch_model.bin) and tokenizer files. Files gather in a hidden
// `.<name>.part/` folder (a failed download resumes there); the weights are checked (safetensors
// header, or the restricted pickle reader) and the folder is renamed into place only when complete.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SafetensorsFile } from '../../../native/io/safetensors.js';
import { openTorchFile } from '../../../native/io/torch-file.js';
import { hashModelFile } from '../../../native/models/file-hashes.js';
import type { ModelType } from '../../protocol/actions.js';
import { EaselError } from '../../protocol/errors.js';
import { MODEL_FOLDERS } from '../folders.js';
import { EXPANDER_WEIGHT_FILES } from '../model-folders.js';
import type { AddressPolicy } from './address-guard.js';
import { parseHfSource, hfResolveUrl } from './sources.js';
import { transfer, type TransferProgress } from './transfer.js';

const REQUIRED_SMALL = ['config.json', 'vocab.json', 'merges.txt'];
const OPTIONAL_SMALL = ['generation_config.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json'];
const MAX_SMALL_FILE_BYTES = 16 * 1024 * 1024;

export interface RepoFolderOptions {
  source: string;
  revision?: string | undefined;
  type: ModelType;
  modelsDir: string;
  hfEndpoint: string;
  hfToken?: string | undefined;
  policy: AddressPolicy;
  signal?: AbortSignal | undefined;
  retryDelaysMs?: readonly number[] | undefined;
  onProgress?: ((p: TransferProgress) => void) | undefined;
  onResolved?: ((info: { name: string; type: ModelType; total_bytes: number | null }) => void) | undefined;
}

async function checkWeights(path: string): Promise<void> {
  try {
    if (path.endsWith('.safetensors')) await (await SafetensorsFile.open(path)).close();
    else await (await openTorchFile(path)).close();
  } catch (err) {
    const code = (err as { code?: unknown }).code === 'unsafe_pickle' ? 'unsafe_model_file' : 'bad_model_file';
    throw new EaselError(code, `the downloaded weights were refused: ${(err as Error).message}`);
  }
}

/** Downloads the repository folder; resolves with its path, name and the weights' sha256. */
export async function downloadRepoFolder(opts: RepoFolderOptions): Promise<{ path: string; name: string; sha256: string; size_bytes: number; existing?: boolean }> {
  if (!opts.source.startsWith('hf:')) throw new EaselError('invalid_params', 'a prompt expander comes from hf:owner/repo (a whole Hugging Face repository)', { field: 'source' });
  const ref = parseHfSource(opts.source, opts.revision);
  if (ref.path) throw new EaselError('invalid_params', 'a prompt expander is a whole repository: give hf:owner/repo without a file path', { field: 'source' });
  const name = ref.repo.split('/')[1]!;
  const root = resolve(opts.modelsDir, MODEL_FOLDERS[opts.type]);
  const target = join(root, name);
  const weightsIn = (dir: string) => EXPANDER_WEIGHT_FILES.map((f) => join(dir, f)).find((p) => existsSync(p));
  if (existsSync(target)) {
    const w = weightsIn(target);
    if (w && existsSync(join(target, 'config.json'))) {
      return { path: target, name, sha256: (await hashModelFile(w)).sha256, size_bytes: (await stat(w)).size, existing: true };
    }
    throw new EaselError('conflict', `${MODEL_FOLDERS[opts.type]}/${name} already exists but is not a complete model folder; delete it first`);
  }
  const partDir = join(root, `.${name}.part`);
  await mkdir(partDir, { recursive: true });
  opts.onResolved?.({ name, type: opts.type, total_bytes: null });
  const headers: Record<string, string> = opts.hfToken ? { authorization: `Bearer ${opts.hfToken}` } : {};
  const fetchFile = async (file: string, maxBytes?: number, onProgress?: RepoFolderOptions['onProgress']): Promise<boolean> => {
    const final = join(partDir, file);
    if (existsSync(final)) return true;
    const part = join(partDir, `.${file}.part`);
    try {
      await transfer({
        url: hfResolveUrl(opts.hfEndpoint, ref, file),
        headers,
        partPath: part,
        policy: opts.policy,
        signal: opts.signal,
        onProgress,
        ...(maxBytes ? { maxBytes } : {}),
        ...(opts.retryDelaysMs ? { retryDelaysMs: opts.retryDelaysMs } : {}),
      });
    } catch (err) {
      if (err instanceof EaselError && err.code === 'not_found') {
        await rm(part, { force: true });
        return false;
      }
      throw err;
    }
    await rename(part, final);
    return true;
  };
  try {
    for (const f of REQUIRED_SMALL) {
      if (!(await fetchFile(f, MAX_SMALL_FILE_BYTES))) throw new EaselError('not_found', `${ref.repo} has no ${f}: not a GPT-2 prompt expander repository`);
    }
    for (const f of OPTIONAL_SMALL) await fetchFile(f, MAX_SMALL_FILE_BYTES);
    let weights: string | undefined;
    for (const f of EXPANDER_WEIGHT_FILES) {
      if (await fetchFile(f, undefined, opts.onProgress)) {
        weights = join(partDir, f);
        break;
      }
    }
    if (!weights) throw new EaselError('not_found', `${ref.repo} has neither ${EXPANDER_WEIGHT_FILES.join(' nor ')}`);
    try {
      await checkWeights(weights);
    } catch (err) {
      await rm(weights, { force: true });
      throw err;
    }
    const hashes = await hashModelFile(weights);
    const size = (await stat(weights)).size;
    await rename(partDir, target);
    return { path: target, name, sha256: hashes.sha256, size_bytes: size };
  } catch (err) {
    if (opts.signal?.aborted) {
      await rm(partDir, { recursive: true, force: true });
      throw new EaselError('cancelled', 'the download was cancelled');
    }
    throw err;
  }
}
