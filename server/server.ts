// Builds and starts the whole server from a Config: database and stores, engine supervisor, GPU
// lane, Socket.IO, express. Used by main.ts and by integration tests (port 0, temp data dir).
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase } from './gallery/database.js';
import { GalleryStore } from './gallery/gallery-store.js';
import { toWireImage } from './gallery/wire-image.js';
import { JobStore } from './gallery/job-store.js';
import { UrlSigner } from './security/signed-url.js';
import { loadOrCreateToken, urlSigningSecret } from './security/token.js';
import { createRateLimits } from './security/rate-limits.js';
import { proxyTrust } from './security/client-ip.js';
import { DiskGuard } from './reliability/disk-guard.js';
import { failurePolicy } from './reliability/failure-policy.js';
import { verifyPayloadImages } from './reliability/image-check.js';
import { EngineSupervisor, type SupervisorOptions } from './engine/supervisor.js';
import { JobQueue } from './jobs/job-queue.js';
import { IoLane } from './jobs/io-lane.js';
import { createJobExecutor, type Broadcaster, type ImageSink } from './jobs/job-runner.js';
import { withADetailerSource } from './jobs/adetailer-source.js';
import { JobProgressHub, withQueuedProgress } from './jobs/job-progress.js';
import { toImageMeta, toInfotextParams } from './jobs/result-infotext.js';
import { upscaleResult, upscaleWorkerParams } from './jobs/upscale-result.js';
import { formatInfotext } from './infotext/index.js';
import { EaselError } from './protocol/errors.js';
import { DEFAULT_GENERATION_LIMITS, type GenerationLimits } from './protocol/generation.js';
import { makeActionSchemas } from './protocol/actions.js';
import { attachHandlers, createBroadcaster, createSocketServer, queueListener, type SocketServerOptions } from './realtime/socket-server.js';
import type { GalleryPort } from './realtime/ports.js';
import { ModelRegistry } from './models/registry.js';
import { DownloadManager } from './models/download-manager.js';
import { loadStarterCatalog, starterView } from './models/starter-models.js';
import { createModelRoutes } from './http/models.js';
import { createTokenizeRoutes } from './http/tokenize.js';
import { createHttpApp } from './http/app.js';
import { buildInfo, SERVER_VERSION } from './http/info.js';
import { createFileRoutes, createImageRoutes } from './http/images.js';
import { DriveAuth } from './drive/auth.js';
import { DriveService } from './drive/drive-service.js';
import { UploadLedger } from './drive/upload-ledger.js';
import { JobEventHub } from './jobs/job-events.js';
import { JobResults } from './jobs/job-results.js';
import { jobHandlers } from './realtime/job-handlers.js';
import type { HandlerDeps } from './realtime/ports.js';
import { createSdapiRouter, OptionsStore } from './http/sdapi/index.js';
import { createJobsApiRoutes } from './http/jobs-api/routes.js';
import { buildOpenApi } from './http/jobs-api/openapi.js';
import { ControlNetService } from './controlnet/controlnet-service.js';
import { withControlNetImages } from './controlnet/unit-images.js';
import { createControlNetRoutes } from './http/controlnet-routes.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The real engine worker. */
export const DEFAULT_WORKER_ENTRY = resolve(here, '..', 'native', 'worker.ts');

export interface StartOptions {
  /** Worker entry; tests pass a double from server/test/. */
  workerEntry?: string;
  logger?: Logger;
  supervisor?: Partial<Omit<SupervisorOptions, 'entry' | 'logger'>>;
  /** Disk checks: how often while full (tests shorten it), and the free-space reader (fault injection). */
  disk?: { pollMs?: number; freeBytes?: (dir: string) => Promise<number> };
}

export interface RunningServer {
  /** The disk holding DATA_DIR: full → new work refused with insufficient_space. */
  disk: DiskGuard;
  url: string;
  port: number;
  token: string;
  tokenCreated: boolean;
  logger: Logger;
  /** For tests and the benchmark: the live parts. */
  queue: JobQueue;
  supervisor: EngineSupervisor;
  gallery: GalleryStore;
  ioLane: IoLane;
  /** Pushes events to clients (the benchmark measures delivery through it). */
  events: Broadcaster;
  /** The model registry and the download manager (tests wait on them). */
  models: ModelRegistry;
  downloads: DownloadManager;
  /** Google Drive backup (disabled unless configured). */
  drive: DriveService;
  /** Every job event, numbered (REST server-sent events, /sdapi/v1/progress). */
  jobEvents: JobEventHub;
  close(): Promise<void>;
}

/** Base64 grows bytes by 4/3; an action can carry an image, a mask and a ControlNet image. */
function bufferLimit(maxImageBytes: number): number {
  return Math.ceil((maxImageBytes * 4) / 3) * 3 + 1024 * 1024;
}

/**
 * Starts the server and resolves once it listens.
 *
 * @example const s = await startServer(loadConfig({ PORT: '0', DATA_DIR: tmp })); await s.close();
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel });
  // A bad starter catalog stops the start (before anything opens) with a message naming the entry and field.
  const starterCatalog = loadStarterCatalog(config.starterModels);
  const { token, created } = loadOrCreateToken(config.dataDir, config.authToken);
  const limits: GenerationLimits = { ...DEFAULT_GENERATION_LIMITS, maxImageBytes: config.maxImageBytes, maxImagePixels: config.maxImagePixels };
  const schemas = makeActionSchemas(limits);

  // A full disk never takes the server down: writes that fail are coded insufficient_space, new work
  // waits, and clients hear about it (server:status) and hear again when space is back.
  let onDiskChange: (full: boolean) => void = () => {};
  const disk = new DiskGuard({ dir: config.dataDir, minFreeBytes: config.minFreeBytes, ...opts.disk, onChange: (s) => onDiskChange(!s.ok) });
  await disk.check();
  const failures = failurePolicy({ guard: disk, dataDir: config.dataDir, modelsDir: config.modelsDir });

  const db = openDatabase(join(config.dataDir, 'gallery.db'));
  const gallery = new GalleryStore({ db, dataDir: config.dataDir });
  const reconciled = await gallery.reconcile();
  if (reconciled.added || reconciled.removed) logger.info(reconciled, 'gallery reconciled with files on disk');
  const jobStore = new JobStore(db);
  const recovered = jobStore.recover();
  if (recovered.interrupted.length) logger.warn({ jobs: recovered.interrupted.map((j) => j.id) }, 'jobs interrupted by the last stop marked failed');
  const signer = new UrlSigner(urlSigningSecret(token));
  const rateLimits = createRateLimits(config);
  const trust = proxyTrust(config.trustedProxies);

  const supervisor = new EngineSupervisor({
    entry: opts.workerEntry ?? DEFAULT_WORKER_ENTRY,
    logger: logger.child({ part: 'engine' }),
    ...opts.supervisor,
    env: { ENGINE_DEVICE: config.engineDevice, MODELS_DIR: config.modelsDir, DEFAULT_VAE: config.defaultVae, LIVE_PREVIEW_METHOD: config.livePreviewMethod, ENGINE_MEMORY: config.engineMemory, ...opts.supervisor?.env },
  });
  try {
    await supervisor.start();
  } catch (err) {
    // The server still serves the gallery; generation answers engine_unavailable.
    logger.error({ err }, 'the engine process did not start');
  }

  // The request handler must exist before Socket.IO attaches: engine.io then routes /socket.io/
  // (long-polling) to itself and everything else to this one. A listener added after attaching
  // would also answer polling requests and crash on double headers.
  let app: ReturnType<typeof createHttpApp> | undefined;
  const http = createServer((req, res) => {
    if (app) app(req, res);
    else {
      res.statusCode = 503;
      res.end('starting');
    }
  });
  const socketOpts: SocketServerOptions = {
    token,
    corsOrigins: config.corsOrigins,
    maxHttpBufferSize: bufferLimit(config.maxImageBytes),
    limits: rateLimits,
    schemas,
    logger: logger.child({ part: 'socket' }),
    proxyTrust: trust,
    mapError: (err) => failures.classify(err),
    redact: failures.redact,
    verify: (_name, payload) => verifyPayloadImages(payload),
    serverStatus: () => ({ disk: disk.status() }),
  };
  const io = createSocketServer(http, socketOpts);
  // Job events also feed the REST event streams and /sdapi/v1/progress.
  const jobEvents = new JobEventHub();
  const events = jobEvents.wrap(createBroadcaster(io));
  // Images an /sdapi request waits for; the A1111 options double as the server's model/VAE defaults.
  const jobResults = new JobResults();
  const sdapiOptions = new OptionsStore(config.dataDir);

  const saveImage: ImageSink = async (job, image, info) => {
    if (job.kind === 'upscale') {
      const result = await upscaleResult(job, image, info, gallery);
      const record = await gallery.addImage(result);
      drive.notifyNewImages();
      return toWireImage(record, signer);
    }
    const infotext = formatInfotext(toInfotextParams(job, image, info));
    if (jobResults.offer(job.id, image, info, infotext)?.keep === false) return null;
    const record = await gallery.addImage({ png: Buffer.from(image.png.buffer, image.png.byteOffset, image.png.byteLength), infotext, meta: toImageMeta(job, image, info) });
    drive.notifyNewImages();
    return toWireImage(record, signer);
  };
  const progressHub = new JobProgressHub();
  const queue: JobQueue = new JobQueue({
    store: jobStore,
    maxQueued: config.maxQueue,
    listener: withQueuedProgress(queueListener(events), progressHub, events, (id) => queue.get(id)),
    admit: () => disk.assertSpace(),
    paused: () => disk.isFull,
    failures,
    executor: withServerDefaults(
      createJobExecutor({
        supervisor: withControlNetImages(withADetailerSource(supervisor, gallery), gallery),
        saveImage,
        events,
        previewEvery: config.previewEvery,
        progress: progressHub,
        workerParams: (job) => (job.kind === 'upscale' ? upscaleWorkerParams(job, gallery) : Promise.resolve(job.params)),
      }),
      () => sdapiOptions.get(),
      (dir, name) => existsSync(join(config.modelsDir, dir, name)),
    ),
  });
  const ioLane = new IoLane(config.ioConcurrency);
  // Every image without a drive_uploads row is pending; uploads share the IO lane with downloads.
  const drive = new DriveService({
    auth: new DriveAuth({
      dataDir: config.dataDir,
      clientId: config.driveClientId,
      clientSecret: config.driveClientSecret,
      redirectUri: config.driveRedirectUri,
      serviceAccountKey: config.driveServiceAccountKey,
      tokenUrl: config.driveTokenUrl,
    }),
    ledger: new UploadLedger(db),
    gallery,
    runIo: (task) => ioLane.run(task),
    folderName: config.driveFolder,
    parentId: config.driveParentId,
    syncIntervalMs: config.driveSyncIntervalS * 1000,
    retry: { baseDelayMs: config.driveRetryBaseMs, maxAttempts: 6 },
    apiRoot: config.driveApiRoot,
    broadcast: (status) => events.toAll('drive:status', status),
    onRestored: (ids) => {
      const images = ids.flatMap((id) => {
        const r = gallery.get(id);
        return r ? [toWireImage(r, signer)] : [];
      });
      for (let i = 0; i < images.length; i += 100) events.toAll('gallery:new', { images: images.slice(i, i + 100) });
    },
    logger: logger.child({ part: 'drive' }),
    classifyError: (err) => failures.classify(err),
  });

  const galleryPort: GalleryPort = {
    list: (q) => {
      const page = gallery.list(q);
      return { items: page.items.map((r) => toWireImage(r, signer)), next_cursor: page.next_cursor };
    },
    get: (id) => {
      const r = gallery.get(id);
      return r ? toWireImage(r, signer) : undefined;
    },
    update: (id, patch) => {
      if (!gallery.get(id)) throw new EaselError('not_found', `no image ${id}`, { field: 'id' });
      const record = gallery.update(id, patch);
      // The Drive copy of an uploaded image gets the new favourite at the next sync.
      if (patch.favorite !== undefined) drive.noteChanged([id]);
      return toWireImage(record, signer);
    },
    delete: async (ids) => {
      const res = await gallery.delete(ids);
      // Uploaded copies are marked deleted on Drive (never removed); restore then skips them.
      drive.noteDeleted(res.deleted);
      return res;
    },
  };
  const registry = new ModelRegistry({
    modelsDir: config.modelsDir,
    cachePath: join(config.dataDir, 'model-cache.json'),
    onChange: () => events.toAll('models:changed', {}),
    onError: (err, path) => logger.warn({ err, path }, 'model registry: could not read a model file'),
  });
  await registry.start();
  const downloads = new DownloadManager({
    lane: ioLane,
    events,
    rescan: () => registry.rescan(),
    options: {
      modelsDir: config.modelsDir,
      ...(config.hfToken ? { hfToken: config.hfToken } : {}),
      ...(config.civitaiToken ? { civitaiToken: config.civitaiToken } : {}),
      allowPrivate: config.allowPrivateDownloads,
      hfEndpoint: config.hfEndpoint,
      civitaiEndpoint: config.civitaiEndpoint,
      ...(config.downloadQuotaBytes > 0 ? { quotaBytes: config.downloadQuotaBytes } : {}),
    },
    failures,
    admit: () => disk.assertSpace(),
    onFinished: (jobId, outcome) => {
      if (outcome.error) logger.warn({ jobId, err: outcome.error }, 'download failed');
      else logger.info({ jobId, path: outcome.result?.path, warnings: outcome.result?.warnings }, 'download finished');
    },
  });
  const models = (type?: Parameters<ModelRegistry['list']>[0]) => registry.list(type);
  const starterModels = async () => starterView(starterCatalog, supervisor.capabilities as Record<string, unknown> | undefined, await registry.list());
  const controlnet = new ControlNetService({
    modelsDir: config.modelsDir,
    listModels: models,
    capabilities: () => supervisor.capabilities,
    preprocess: (params, signal) => supervisor.preprocess(params, signal),
    defaultCheckpoint: () => sdapiOptions.get().sd_model_checkpoint ?? undefined,
    imageExists: (id) => gallery.get(id) !== undefined,
  });
  const handlerDeps: HandlerDeps = { queue, capabilities: () => supervisor.capabilities, gallery: galleryPort, events, listModels: models, drive, downloads, enhancer: supervisor, starterModels, controlnet, imageFile: (id) => gallery.filePath(id) };
  attachHandlers(io, socketOpts, handlerDeps);
  const handlers = jobHandlers(handlerDeps);
  let listeningPort = 0;

  app = createHttpApp({
    token,
    corsOrigins: config.corsOrigins,
    restLimiter: rateLimits.rest,
    proxyTrust: trust,
    mapError: (err) => failures.classify(err),
    redact: failures.redact,
    logger: logger.child({ part: 'http' }),
    jsonLimitBytes: bufferLimit(config.maxImageBytes),
    webDist: config.webDist,
    health: () => ({
      status: disk.isFull ? 'degraded' : 'ok',
      disk: disk.status(),
      version: SERVER_VERSION,
      engine: { ready: supervisor.capabilities !== undefined, device: supervisor.engineDevice ?? null, capabilities: supervisor.capabilities ?? null },
      queue: { queued: queue.queuedCount, running: queue.runningJob ? 1 : 0 },
    }),
    info: () => buildInfo({ limits, listModels: models, capabilities: () => supervisor.capabilities }),
    imageRoutes: createImageRoutes({ store: gallery, signer }),
    fileRoutes: createFileRoutes({ store: gallery, signer }),
    modelRoutes: createModelRoutes({ listModels: models }),
    tokenizeRoutes: createTokenizeRoutes({ modelsDir: config.modelsDir, tokenizerDir: process.env.TOKENIZER_DIR || undefined }),
    jobRoutes: createJobsApiRoutes({ jobs: handlers, schemas, queue, hub: jobEvents, gallery: galleryPort, actionLimiter: rateLimits.actions }),
    openapi: () => buildOpenApi(schemas),
    controlnetRoutes: createControlNetRoutes({ controlnet, limits, rescanModels: () => registry.rescan() }, logger.child({ part: 'controlnet' }), bufferLimit(config.maxImageBytes)),
    sdapiRoutes: createSdapiRouter(
      {
        jobs: handlers,
        schemas,
        queue,
        hub: jobEvents,
        results: jobResults,
        options: sdapiOptions,
        capabilities: () => supervisor.capabilities,
        listModels: models,
        rescanModels: () => registry.rescan(),
        modelsDir: config.modelsDir,
        dataDir: config.dataDir,
        host: config.host,
        port: () => listeningPort,
        previewEvery: config.previewEvery,
        keepAliveMs: config.sdapiKeepAliveMs,
      },
      logger.child({ part: 'sdapi' }),
      bufferLimit(config.maxImageBytes),
    ),
  });

  queue.restore(recovered.requeued);
  onDiskChange = (full) => {
    const status = disk.status();
    events.toAll('server:status', { disk: status });
    if (full) {
      logger.error({ disk: status }, 'the disk holding DATA_DIR is full: new work is refused until space returns');
      events.toAll('error', { code: 'insufficient_space', message: failures.redact(status.message ?? 'the disk is full') });
    } else {
      logger.info({ disk: status }, 'disk space is back: queued work resumes');
      queue.resume();
    }
  };
  void disk.start();

  await new Promise<void>((resolveListen, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolveListen();
    });
  });
  const port = (http.address() as AddressInfo).port;
  listeningPort = port;
  const hostForUrl = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Stop taking work, record the running job as failed (server_stopped), then tear down.
      disk.stop();
      await queue.stop();
      const driveStopped = drive.stop();
      downloads.close();
      ioLane.close();
      await driveStopped;
      await supervisor.stop();
      io.disconnectSockets(true);
      await new Promise<void>((r) => {
        void io.close(() => r());
        http.closeAllConnections();
      });
      await registry.close();
      db.close();
    })();
    return closing;
  };

  drive.start();

  return { disk, url, port, token, tokenCreated: created, logger, queue, supervisor, gallery, ioLane, events, models: registry, downloads, drive, jobEvents, close };
}

/**
 * The server's default checkpoint and VAE (set through /sdapi/v1/options) for generate jobs that
 * name none, whichever client queued them; what the job ran with is then what its infotext says.
 */
function withServerDefaults(
  executor: ReturnType<typeof createJobExecutor>,
  defaults: () => { sd_model_checkpoint: string | null; sd_vae: string | null },
  exists: (dir: 'checkpoints' | 'vae', name: string) => boolean,
): ReturnType<typeof createJobExecutor> {
  return (job, signal) => {
    if (job.kind === 'generate') {
      // A default whose file was removed since is skipped: the engine's own fallback applies.
      const d = defaults();
      if (job.params.model === undefined && d.sd_model_checkpoint && exists('checkpoints', d.sd_model_checkpoint)) job.params = { ...job.params, model: d.sd_model_checkpoint };
      const vaeIsFile = d.sd_vae !== null && d.sd_vae !== 'Automatic' && d.sd_vae !== 'None';
      if (job.params.vae === undefined && d.sd_vae && (!vaeIsFile || exists('vae', d.sd_vae))) job.params = { ...job.params, vae: d.sd_vae };
    }
    return executor(job, signal);
  };
}
