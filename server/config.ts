// Every setting of the server: environment variables and CLI flags, their defaults, and parsing
// with clear errors. main.ts reads it once; tests build a Config directly with `loadConfig({...})`.
import { resolve } from 'node:path';
import { EaselError } from './protocol/errors.js';
import { ENGINE_MEMORY_SETTINGS, parseEngineMemory } from '../native/runtime/memory-mode.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  modelsDir: string;
  /** When set, replaces the token file. */
  authToken: string | undefined;
  /** Origins allowed by CORS (HTTP and Socket.IO); empty = same-origin only. */
  corsOrigins: string[];
  /** Actions per client per window. */
  rateLimitPoints: number;
  rateLimitWindowS: number;
  /** New Socket.IO connections per IP per minute. */
  connRateLimitPerMin: number;
  /** REST requests per IP per minute. */
  restRateLimitPerMin: number;
  /** Socket.IO actions per client address per window (whatever client ids it uses); 0 = rateLimitPoints. */
  rateLimitAddressPoints: number;
  /** Proxies whose X-Forwarded-For hop is believed (addresses, CIDR ranges, `loopback`). */
  trustedProxies: string[];
  /** Free bytes DATA_DIR's disk must keep; below it new work is refused with `insufficient_space`. */
  minFreeBytes: number;
  maxImageBytes: number;
  maxImagePixels: number;
  maxQueue: number;
  ioConcurrency: number;
  /** A preview every N steps (0 = none). */
  previewEvery: number;
  /** Model parts the engine keeps loaded: auto, low, normal (native/runtime/memory-mode.ts). */
  engineMemory: string;
  /** How live previews are made: auto (TAESD when installed, else cheap), cheap, taesd, full. */
  livePreviewMethod: string;
  engineDevice: 'cpu' | 'cuda';
  /** VAE for requests that name none: a file in MODELS_DIR/vae, 'Automatic' or 'None'. */
  defaultVae: string;
  logLevel: string;
  /** Folder with the built PWA, served at `/` when it exists. */
  webDist: string;
  /** Model downloads (server/models/downloads). */
  hfToken: string | undefined;
  civitaiToken: string | undefined;
  /** Let downloads reach loopback/private addresses (off: SSRF guard). */
  allowPrivateDownloads: boolean;
  /** The most bytes $MODELS_DIR may hold after a download (0 = only the disk's free space counts). */
  downloadQuotaBytes: number;
  hfEndpoint: string;
  civitaiEndpoint: string;
  /** The starter-model catalog file (empty: the one shipped in server/models/starter-models.json). */
  starterModels: string | undefined;
  /** Google Drive backup (server/drive): an OAuth client, or a service-account key file. */
  driveClientId: string | undefined;
  driveClientSecret: string | undefined;
  driveRedirectUri: string;
  driveServiceAccountKey: string | undefined;
  driveFolder: string;
  driveParentId: string;
  /** Seconds between automatic syncs (0 = only manual and after new images). */
  driveSyncIntervalS: number;
  driveRetryBaseMs: number;
  driveApiRoot: string;
  driveTokenUrl: string;
  /** /sdapi/v1 synchronous jobs: send headers and a space after this long, then at this interval (0 = never). */
  sdapiKeepAliveMs: number;
}

interface Setting {
  env: string;
  flag: string;
  key: keyof Config;
  def: string;
  doc: string;
  parse: (raw: string, name: string) => Config[keyof Config];
}

function int(min: number, max: number) {
  return (raw: string, name: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new EaselError('invalid_params', `${name} must be an integer between ${min} and ${max}, got "${raw}"`, { field: name });
    }
    return n;
  };
}
const str = (raw: string): string => raw;
const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const optional = (raw: string): string | undefined => (raw === '' ? undefined : raw);
const device = (raw: string, name: string): 'cpu' | 'cuda' => {
  if (raw !== 'cpu' && raw !== 'cuda') throw new EaselError('invalid_params', `${name} must be cpu or cuda, got "${raw}"`, { field: name });
  return raw;
};
const previewMethod = (raw: string, name: string): string => {
  const m = raw.trim().toLowerCase();
  if (!['auto', 'cheap', 'taesd', 'full'].includes(m)) throw new EaselError('invalid_params', `${name} must be auto, cheap, taesd or full, got "${raw}"`, { field: name });
  return m;
};
const engineMemory = (raw: string, name: string): string => {
  const m = parseEngineMemory(raw);
  if (!m) throw new EaselError('invalid_params', `${name} must be ${ENGINE_MEMORY_SETTINGS.join(', ')}, got "${raw}"`, { field: name });
  return m;
};
const level = (raw: string, name: string): string => {
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw)) {
    throw new EaselError('invalid_params', `${name} must be a pino level (fatal, error, warn, info, debug, trace, silent), got "${raw}"`, {
      field: name,
    });
  }
  return raw;
};

const bool = (raw: string, name: string): boolean => {
  if (['true', '1', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no', 'off', ''].includes(raw.toLowerCase())) return false;
  throw new EaselError('invalid_params', `${name} must be true or false, got "${raw}"`, { field: name });
};
const baseUrl = (raw: string, name: string): string => {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new EaselError('invalid_params', `${name} must be an http(s) URL, got "${raw}"`, { field: name });
  return raw.replace(/\/+$/, '');
};

/** The table the README's "Configuration" section mirrors. */
export const SETTINGS: readonly Setting[] = [
  { env: 'PORT', flag: '--port', key: 'port', def: '7860', doc: 'HTTP + Socket.IO port (0 = any free port)', parse: int(0, 65535) },
  { env: 'HOST', flag: '--host', key: 'host', def: '127.0.0.1', doc: 'interface to listen on (0.0.0.0 for all)', parse: str },
  { env: 'DATA_DIR', flag: '--data-dir', key: 'dataDir', def: './data', doc: 'gallery, database, token file', parse: (r) => resolve(r) },
  { env: 'MODELS_DIR', flag: '--models-dir', key: 'modelsDir', def: './models', doc: 'checkpoints, LoRAs, VAEs, ...', parse: (r) => resolve(r) },
  { env: 'AUTH_TOKEN', flag: '--auth-token', key: 'authToken', def: '', doc: 'fixed access token (else generated into DATA_DIR/auth-token)', parse: optional },
  { env: 'CORS_ORIGINS', flag: '--cors-origins', key: 'corsOrigins', def: '', doc: 'comma-separated origins allowed by CORS', parse: list },
  { env: 'RATE_LIMIT_POINTS', flag: '--rate-limit-points', key: 'rateLimitPoints', def: '100', doc: 'Socket.IO actions per client per window', parse: int(1, 1_000_000) },
  { env: 'RATE_LIMIT_WINDOW_S', flag: '--rate-limit-window-s', key: 'rateLimitWindowS', def: '60', doc: 'rate-limit window in seconds', parse: int(1, 86_400) },
  { env: 'CONN_RATE_LIMIT', flag: '--conn-rate-limit', key: 'connRateLimitPerMin', def: '60', doc: 'new Socket.IO connections per IP per minute', parse: int(1, 1_000_000) },
  { env: 'RATE_LIMIT_ADDRESS_POINTS', flag: '--rate-limit-address-points', key: 'rateLimitAddressPoints', def: '0', doc: 'Socket.IO actions per client address per window, whatever client ids it uses (0 = RATE_LIMIT_POINTS)', parse: int(0, 1_000_000) },
  { env: 'TRUSTED_PROXIES', flag: '--trusted-proxies', key: 'trustedProxies', def: 'loopback', doc: 'proxies whose X-Forwarded-For hop is believed: addresses, CIDR ranges, loopback (none = off)', parse: (r) => (r.trim() === 'none' ? [] : list(r)) },
  { env: 'MIN_FREE_BYTES', flag: '--min-free-bytes', key: 'minFreeBytes', def: String(64 * 1024 * 1024), doc: 'free bytes DATA_DIR must keep; below it new work gets insufficient_space', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { env: 'REST_RATE_LIMIT', flag: '--rest-rate-limit', key: 'restRateLimitPerMin', def: '600', doc: 'REST requests per IP per minute', parse: int(1, 1_000_000) },
  { env: 'MAX_IMAGE_BYTES', flag: '--max-image-bytes', key: 'maxImageBytes', def: String(20 * 1024 * 1024), doc: 'largest uploaded image (bytes)', parse: int(1024, 512 * 1024 * 1024) },
  { env: 'MAX_IMAGE_PIXELS', flag: '--max-image-pixels', key: 'maxImagePixels', def: String(4096 * 4096), doc: 'largest uploaded image (width × height)', parse: int(64 * 64, 1 << 30) },
  { env: 'MAX_QUEUE', flag: '--max-queue', key: 'maxQueue', def: '100', doc: 'queued jobs before `queue_full`', parse: int(1, 100_000) },
  { env: 'IO_CONCURRENCY', flag: '--io-concurrency', key: 'ioConcurrency', def: '2', doc: 'parallel downloads/uploads', parse: int(1, 64) },
  { env: 'PREVIEW_EVERY', flag: '--preview-every', key: 'previewEvery', def: '2', doc: 'send a preview every N steps (0 = off)', parse: int(0, 1000) },
  { env: 'LIVE_PREVIEW_METHOD', flag: '--live-preview-method', key: 'livePreviewMethod', def: 'auto', doc: 'live preview decoder: auto (TAESD when installed, else cheap), cheap, taesd or full', parse: previewMethod },
  { env: 'ENGINE_DEVICE', flag: '--engine-device', key: 'engineDevice', def: 'cpu', doc: 'cpu or cuda', parse: device },
  { env: 'ENGINE_MEMORY', flag: '--engine-memory', key: 'engineMemory', def: 'auto', doc: 'model parts the engine keeps loaded: lowest (as low, and the cond and uncond rows of a CFG step one at a time), low (one at a time, reopened from the load cache), normal (all), auto (low on the CPU with the load cache on and no full-VAE live previews, else normal)', parse: engineMemory },
  { env: 'DEFAULT_VAE', flag: '--default-vae', key: 'defaultVae', def: 'Automatic', doc: "VAE when a request names none: a file in MODELS_DIR/vae, 'Automatic' or 'None'", parse: (r) => r.trim() || 'Automatic' },
  { env: 'LOG_LEVEL', flag: '--log-level', key: 'logLevel', def: 'info', doc: 'pino log level', parse: level },
  { env: 'WEB_DIST', flag: '--web-dist', key: 'webDist', def: './web/dist', doc: 'built PWA served at /', parse: (r) => resolve(r) },
  { env: 'HF_TOKEN', flag: '--hf-token', key: 'hfToken', def: '', doc: 'Hugging Face access token for gated/private model downloads', parse: optional },
  { env: 'CIVITAI_TOKEN', flag: '--civitai-token', key: 'civitaiToken', def: '', doc: 'Civitai API key for downloads that need login', parse: optional },
  { env: 'ALLOW_PRIVATE_DOWNLOADS', flag: '--allow-private-downloads', key: 'allowPrivateDownloads', def: 'false', doc: 'let downloads reach loopback/private/link-local addresses (true/false)', parse: bool },
  { env: 'DOWNLOAD_QUOTA_BYTES', flag: '--download-quota-bytes', key: 'downloadQuotaBytes', def: '0', doc: 'most bytes MODELS_DIR may hold; larger downloads are refused (0 = free disk space only)', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { env: 'HF_ENDPOINT', flag: '--hf-endpoint', key: 'hfEndpoint', def: 'https://huggingface.co', doc: 'Hugging Face base URL (a mirror; tests)', parse: baseUrl },
  { env: 'CIVITAI_ENDPOINT', flag: '--civitai-endpoint', key: 'civitaiEndpoint', def: 'https://civitai.com', doc: 'Civitai base URL (tests)', parse: baseUrl },
  { env: 'STARTER_MODELS', flag: '--starter-models', key: 'starterModels', def: '', doc: 'starter-model catalog JSON file (default: the one Easel ships)', parse: (r) => (r === '' ? undefined : resolve(r)) },
  { env: 'DRIVE_CLIENT_ID', flag: '--drive-client-id', key: 'driveClientId', def: '', doc: 'Google OAuth client id (Desktop app type) for Drive backup', parse: optional },
  { env: 'DRIVE_CLIENT_SECRET', flag: '--drive-client-secret', key: 'driveClientSecret', def: '', doc: 'its client secret', parse: optional },
  { env: 'DRIVE_REDIRECT_URI', flag: '--drive-redirect-uri', key: 'driveRedirectUri', def: 'http://localhost', doc: 'OAuth redirect URI; the page it lands on shows the code to paste', parse: str },
  { env: 'DRIVE_SERVICE_ACCOUNT_KEY', flag: '--drive-service-account-key', key: 'driveServiceAccountKey', def: '', doc: 'path of a service-account JSON key (instead of OAuth)', parse: (r) => (r === '' ? undefined : resolve(r)) },
  { env: 'DRIVE_FOLDER', flag: '--drive-folder', key: 'driveFolder', def: 'StableDiffusion_Gallery', doc: 'Drive folder that holds the YYYY/MM/DD backup tree', parse: str },
  { env: 'DRIVE_PARENT_ID', flag: '--drive-parent-id', key: 'driveParentId', def: 'root', doc: 'id of the Drive folder DRIVE_FOLDER is created in (a shared-drive folder for a service account)', parse: str },
  { env: 'DRIVE_SYNC_INTERVAL_S', flag: '--drive-sync-interval-s', key: 'driveSyncIntervalS', def: '300', doc: 'seconds between automatic Drive syncs (0 = off)', parse: int(0, 86_400) },
  { env: 'DRIVE_RETRY_BASE_MS', flag: '--drive-retry-base-ms', key: 'driveRetryBaseMs', def: '1000', doc: 'first Drive retry delay; doubles per retry', parse: int(1, 60_000) },
  { env: 'DRIVE_API_ROOT', flag: '--drive-api-root', key: 'driveApiRoot', def: 'https://www.googleapis.com/', doc: 'Drive API root (tests point it at a fake)', parse: str },
  { env: 'SDAPI_KEEPALIVE_MS', flag: '--sdapi-keepalive-ms', key: 'sdapiKeepAliveMs', def: '20000', doc: 'a synchronous /sdapi/v1 job sends its headers and a space after this many ms, then again at this interval (keeps tunnels that cut silent requests at 100 s open; 0 = off)', parse: int(0, 90_000) },
  { env: 'DRIVE_TOKEN_URL', flag: '--drive-token-url', key: 'driveTokenUrl', def: 'https://oauth2.googleapis.com/token', doc: 'OAuth token endpoint (tests point it at a fake)', parse: str },
];

/**
 * Builds the config: CLI flags (`--port 8080` or `--port=8080`) win over env vars, which win over
 * defaults. Unknown flags are an error, so a typo never silently falls back to a default.
 *
 * @example loadConfig(process.env, process.argv.slice(2))
 */
export function loadConfig(env: Record<string, string | undefined> = {}, argv: readonly string[] = []): Config {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!SETTINGS.some((s) => s.flag === name)) throw new EaselError('invalid_params', `unknown option ${name}`, { field: name });
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new EaselError('invalid_params', `option ${name} needs a value`, { field: name });
    flags.set(name, value);
  }
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const s of SETTINGS) {
    const fromFlag = flags.get(s.flag);
    const raw = fromFlag ?? env[s.env] ?? s.def;
    out[s.key] = s.parse(raw, fromFlag !== undefined ? s.flag : s.env);
  }
  return out as unknown as Config;
}
