// `npm run -s download -- <source> [--type checkpoint] ...`: one model download from the command
// line through the server's own downloader (server/models/downloads), so setup_colab.sh and the
// PWA's download form share sources, checks and folders. Progress goes to stderr; stdout gets only
// the saved file's path, which setup_colab.sh records to skip the download on its next run.
//
// Exit codes: 0 saved, 1 the download failed, 2 bad arguments, 130 interrupted (Ctrl-C).
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MODEL_TYPES, type ModelType } from '../server/protocol/actions.js';
// Loaded when a download starts: --help and argument errors answer without the server's modules.
import type { DownloadOptions, DownloadRequest } from '../server/models/downloads/index.js';

export const HELP = `Usage: npm run -s download -- <source> [options]

  <source>              hf:OWNER/REPO/PATH/file.safetensors, civitai:MODEL_ID[@VERSION_ID],
                        an https:// URL of the file, or hf:OWNER/REPO with --type tokenizer
  --type TYPE           ${[...MODEL_TYPES, 'tokenizer'].join(' | ')} (default checkpoint)
  --filename NAME       file name to save as (default: from the source)
  --sha256 HEX          expected SHA-256; a mismatch deletes the file and fails
  --revision REV        Hugging Face branch, tag or commit (default main)
  --models-dir DIR      models root (default $MODELS_DIR or ./models)
  --allow-private       allow hosts on private/loopback addresses (local mirrors, tests)
  --help

Environment: HF_TOKEN (gated Hugging Face repos), CIVITAI_TOKEN, HF_ENDPOINT, CIVITAI_ENDPOINT,
ALLOW_PRIVATE_DOWNLOADS=true (same as --allow-private), MODELS_DIR.
Prints the saved file's path on stdout. Exit codes: 0 saved, 1 failed, 2 bad arguments, 130 interrupted.`;

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

const DOWNLOAD_TYPES: readonly string[] = [...MODEL_TYPES, 'tokenizer'];
const SHA256 = /^[0-9a-f]{64}$/i;
// `hf:owner/repo` alone is a tokenizer source (`--type tokenizer`).
const SOURCE = /^(hf:[^/\s]+\/[^/\s]+(\/\S+)?|civitai:\d+(@\d+)?|https?:\/\/\S+)$/;
/** Progress lines at most this often, so a fast local copy does not flood a Colab cell. */
const PROGRESS_EVERY_MS = 1000;

export class UsageError extends Error {
  readonly code = 'invalid_params';
}

export interface ParsedDownloadArgs {
  help: boolean;
  request: DownloadRequest;
  modelsDir: string;
  allowPrivate: boolean;
}

/**
 * Parses the command line; throws UsageError with a message that names the bad argument.
 *
 * @example parseDownloadArgs(['civitai:4384', '--type', 'lora'], {}).request // { source: 'civitai:4384', type: 'lora' }
 */
export function parseDownloadArgs(argv: readonly string[], env: Record<string, string | undefined>): ParsedDownloadArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        type: { type: 'string' },
        filename: { type: 'string' },
        sha256: { type: 'string' },
        revision: { type: 'string' },
        'models-dir': { type: 'string' },
        'allow-private': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const modelsDir = resolve(values['models-dir'] ?? env.MODELS_DIR ?? './models');
  if (values.help) return { help: true, request: { source: '', type: 'checkpoint' }, modelsDir, allowPrivate: false };
  if (positionals.length !== 1) throw new UsageError(`expected exactly one source, got ${positionals.length}`);
  const source = positionals[0]!;
  if (!SOURCE.test(source)) throw new UsageError(`not a model source: "${source}" (hf:OWNER/REPO/FILE, civitai:ID or an http(s) URL)`);
  const type = values.type ?? 'checkpoint';
  if (!DOWNLOAD_TYPES.includes(type)) throw new UsageError(`--type must be one of ${DOWNLOAD_TYPES.join(', ')}, got "${type}"`);
  if (values.sha256 !== undefined && !SHA256.test(values.sha256)) throw new UsageError(`--sha256 must be 64 hex digits, got "${values.sha256}"`);
  if (values.filename !== undefined && (values.filename === '' || /[/\\]/.test(values.filename))) {
    throw new UsageError(`--filename must be a plain file name, got "${values.filename}"`);
  }
  const request: DownloadRequest = { source, type: type as ModelType | 'tokenizer' };
  if (values.filename !== undefined) request.filename = values.filename;
  if (values.sha256 !== undefined) request.sha256 = values.sha256.toLowerCase();
  if (values.revision !== undefined) request.revision = values.revision;
  // ALLOW_PRIVATE_DOWNLOADS is the server's setting of the same meaning (config.ts).
  const allowPrivate = values['allow-private'] === true || /^(1|true|yes)$/i.test(env.ALLOW_PRIVATE_DOWNLOADS ?? '');
  return { help: false, request, modelsDir, allowPrivate };
}

function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  signal?: AbortSignal;
}

/** Runs the CLI and returns its exit code (never calls process.exit, so tests can call it). */
export async function runDownloadCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let args: ParsedDownloadArgs;
  try {
    args = parseDownloadArgs(argv, env);
  } catch (err) {
    io.stderr(`download-model: ${err instanceof Error ? err.message : String(err)}\nRun with --help for usage.\n`);
    return EXIT.usage;
  }
  if (args.help) {
    io.stdout(`${HELP}\n`);
    return EXIT.ok;
  }
  const opts: DownloadOptions = { modelsDir: args.modelsDir, allowPrivate: args.allowPrivate };
  if (env.HF_TOKEN) opts.hfToken = env.HF_TOKEN;
  if (env.CIVITAI_TOKEN) opts.civitaiToken = env.CIVITAI_TOKEN;
  if (env.HF_ENDPOINT) opts.hfEndpoint = env.HF_ENDPOINT;
  if (env.CIVITAI_ENDPOINT) opts.civitaiEndpoint = env.CIVITAI_ENDPOINT;
  if (io.signal) opts.signal = io.signal;
  let last = 0;
  opts.onProgress = (p) => {
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    const pct = p.total_bytes ? ` (${Math.floor((100 * p.received_bytes) / p.total_bytes)}%)` : '';
    const eta = p.eta_s !== null ? `, ${Math.ceil(p.eta_s)} s left` : '';
    io.stderr(`${formatMb(p.received_bytes)}${p.total_bytes ? ` of ${formatMb(p.total_bytes)}` : ''}${pct} at ${formatMb(p.speed_bps)}/s${eta}\n`);
  };
  io.stderr(`downloading ${args.request.type} ${args.request.source} into ${args.modelsDir}\n`);
  try {
    const { downloadModel } = await import('../server/models/downloads/index.js');
    const r = await downloadModel(args.request, opts);
    io.stderr(`saved ${r.type} ${r.name} (${formatMb(r.size_bytes)}, sha256 ${r.sha256})\n`);
    io.stdout(`${r.path}\n`);
    return EXIT.ok;
  } catch (err) {
    if (io.signal?.aborted) {
      io.stderr('download-model: interrupted\n');
      return EXIT.interrupted;
    }
    const code = err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? `${err.code}: ` : '';
    io.stderr(`download-model: ${code}${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  }
}

// realpath: started through a symlinked folder, argv[1] and the module's own URL differ.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  runDownloadCli(process.argv.slice(2), process.env, {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    signal: abort.signal,
  }).then((code) => process.exit(code));
}
