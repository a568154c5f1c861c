// `npm run -s models -- --list` / `--starter <id>`: the starter-model catalog from the shell (what
// the app's Settings → Models offers in one tap). `--starter` downloads an entry through the same
// downloader as `npm run -s download` (scripts/download-model.ts: folders, sha256, resume), and
// prints the saved path on stdout, so setup_colab.sh can take `starter:<id>` like any source.
//
// Exit codes: 0 listed or saved, 1 the download failed, 2 bad arguments, 3 the entry needs a
// feature this build cannot run yet (--force downloads it anyway), 130 interrupted.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadStarterCatalog, starterFileName, unavailableReason, type StarterEntry } from '../server/models/starter-models.js';
import { EXIT, runDownloadCli, type CliIo } from './download-model.js';

export const HELP = `Usage: npm run -s models -- --list
       npm run -s models -- --starter ID [--models-dir DIR] [--force]

  --list                the starter models: id, size, type, licence, what each is for, and
                        whether this build can run it
  --starter ID          download one starter model into its folder (prints the saved path)
  --force               download an entry even if this build cannot run it yet
  --catalog FILE        another catalog file (default $STARTER_MODELS or the one Easel ships)
  --models-dir DIR      models root (default $MODELS_DIR or ./models)
  --allow-private       allow hosts on private/loopback addresses (local mirrors, tests)
  --help

Environment: as for npm run -s download (HF_TOKEN, CIVITAI_TOKEN, HF_ENDPOINT, MODELS_DIR, ...).
Exit codes: 0 ok, 1 download failed, 2 bad arguments, 3 not runnable on this build (see --force), 130 interrupted.`;

export const EXIT_UNSUPPORTED = 3;

/** "2.1 GB", "67 MB". */
export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** The worker's capability flags, read from the engine without starting it. */
async function buildCapabilities(): Promise<Record<string, unknown>> {
  const { CAPABILITIES } = await import('../native/worker.js');
  return { ...CAPABILITIES };
}

/** One line per entry: id, size, type, name — feature (licence) [why not, when not]. */
export function listLines(entries: readonly StarterEntry[], caps: Record<string, unknown>): string[] {
  const width = Math.max(...entries.map((e) => e.id.length));
  return entries.map((e) => {
    const reason = unavailableReason(e, caps);
    return `${e.id.padEnd(width)}  ${formatSize(e.size_bytes).padStart(7)}  ${e.type.padEnd(11)} ${e.name}: ${e.feature} (${e.license})${reason ? ` [not yet: ${reason}]` : ''}`;
  });
}

/**
 * Runs the command (never calls process.exit, so tests can call it); `capabilities` stands in for
 * the engine's flags in tests.
 */
export async function runModelsCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo, capabilities?: Record<string, unknown>): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        list: { type: 'boolean' },
        starter: { type: 'string' },
        force: { type: 'boolean' },
        catalog: { type: 'string' },
        'models-dir': { type: 'string' },
        'allow-private': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (!values.help && (values.list === true) === (values.starter !== undefined)) throw new Error('give exactly one of --list or --starter ID');
  } catch (err) {
    io.stderr(`models: ${err instanceof Error ? err.message : String(err)}\nRun with --help for usage.\n`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout(`${HELP}\n`);
    return EXIT.ok;
  }
  let entries: StarterEntry[];
  try {
    entries = loadStarterCatalog(values.catalog ?? (env.STARTER_MODELS || undefined));
  } catch (err) {
    io.stderr(`models: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.usage;
  }
  const caps = capabilities ?? (await buildCapabilities());
  if (values.list) {
    io.stdout(`${listLines(entries, caps).join('\n')}\n`);
    return EXIT.ok;
  }
  const entry = entries.find((e) => e.id === values.starter);
  if (!entry) {
    io.stderr(`models: no starter model "${values.starter}" (ids: ${entries.map((e) => e.id).join(', ')})\n`);
    return EXIT.usage;
  }
  const reason = unavailableReason(entry, caps);
  if (reason && !values.force) {
    io.stderr(`models: ${entry.id} ${reason} (--force downloads it anyway)\n`);
    return EXIT_UNSUPPORTED;
  }
  const args = [entry.source, '--type', entry.type];
  const file = starterFileName(entry);
  if (entry.filename && file) args.push('--filename', file);
  if (entry.sha256) args.push('--sha256', entry.sha256);
  if (values['models-dir']) args.push('--models-dir', values['models-dir']);
  if (values['allow-private']) args.push('--allow-private');
  return runDownloadCli(args, env, io);
}

// realpath: started through a symlinked folder, argv[1] and the module's own URL differ.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  runModelsCli(process.argv.slice(2), process.env, {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    signal: abort.signal,
  }).then((code) => process.exit(code));
}
