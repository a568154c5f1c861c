// What every runner shares: turning "a graph for this shape" into a cached session. On a miss the
// graph is built, its external data is filled from the checkpoint (through the weight hook), the
// session is created, and the external buffers are dropped (ORT keeps its own copy).
// A part can switch between weight variants (checkpoint as is, LoRA-merged, another VAE, an extended
// token table): sessions are keyed by variant and shape, so switching back to a recent variant
// reuses its session while the LRU still holds it.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltGraph } from '../graph/builder.js';
import type { EngineRuntime, EngineSession, FeedTensor } from './ort-backend.js';
import { MODEL_FILE, WEIGHTS_FILE, type LoadCache, type LoadOutcome } from './load-cache.js';
import { reportPartLoad } from './load-events.js';
import { SessionCache } from './session-cache.js';
import { materializeWeights, stageWeightsOnDisk } from './weights.js';
import type { WeightHook, WeightSource } from './weights.js';

export interface ModelPartOptions {
  runtime: EngineRuntime;
  source: WeightSource;
  weightHook?: WeightHook;
  /** Sessions kept per part (each holds a copy of the part's weights). Default 2. */
  maxSessions?: number;
  /**
   * How weights reach ONNX Runtime: 'memory' hands them over as in-memory external data (ORT
   * copies them, so the load peak holds them twice); 'disk' writes them tensor by tensor to a
   * temporary folder that ORT loads by path, then deletes it (one copy at peak). 'auto' (default)
   * uses disk for parts above DISK_STAGING_BYTES.
   */
  weightsVia?: 'memory' | 'disk' | 'auto';
  /** Where 'disk' staging writes (default: the OS temp folder). */
  stagingDir?: string;
  /**
   * On-disk cache of ORT-optimized sessions (native/runtime/load-cache.ts) and the content hash of
   * the checkpoint the weights come from. Not used while a weightHook is set (its effect has no id).
   */
  loadCache?: PartLoadCache;
}

export interface PartLoadCache {
  cache: LoadCache;
  /** sha256 of the checkpoint (LoadCache.checkpointSha256). */
  checkpoint: string;
}

/** What fixes a built graph: its protobuf and where each checkpoint tensor lands (layout, dtype). */
function graphDigest(graph: BuiltGraph): string {
  const h = createHash('sha256').update(graph.model);
  h.update(JSON.stringify([graph.externalFiles, graph.weights.map((b) => [b.key, b.file, b.offset, b.shape, b.dtype, b.transpose ?? false, b.winograd ?? 0])]));
  return h.digest('hex');
}

/** Parts larger than this load through a temporary file (full-size UNets and text encoders). */
export const DISK_STAGING_BYTES = 256 * 1024 * 1024;

/** Weights of a part other than the checkpoint's: `id` keys the sessions, `source` supplies tensors. */
export interface PartWeights {
  readonly id: string;
  readonly source: WeightSource;
}

export const BASE_WEIGHTS_ID = 'base';

export class ModelPart {
  private readonly cache: SessionCache;
  private weights: PartWeights;
  /** Sessions created so far (all variants and shapes), for tests and benchmarks. */
  sessionsCreated = 0;
  /** Milliseconds spent so far building graphs, filling weights and creating sessions (for benchmarks). */
  readonly loadMs = { graph: 0, weights: 0, session: 0 };
  /** Sessions per load-cache outcome (hit: opened from the cache; miss: built and stored; bypass: cache unusable). */
  readonly cacheOutcomes: Record<LoadOutcome, number> = { hit: 0, miss: 0, bypass: 0 };

  constructor(
    readonly label: string,
    private readonly opts: ModelPartOptions,
  ) {
    this.cache = new SessionCache(opts.maxSessions ?? 2);
    this.weights = { id: BASE_WEIGHTS_ID, source: opts.source };
  }

  /** `variant|shape` keys that currently have a session. */
  cachedShapes(): string[] {
    return this.cache.keys();
  }

  /** The id of the weights new runs use. */
  get weightsId(): string {
    return this.weights.id;
  }

  /** Shapes of the current weights (an extended token table is larger than the checkpoint's). */
  shape(key: string): readonly number[] | undefined {
    return this.weights.source.shape(key);
  }

  /** Switches the weights later runs use (null: the checkpoint's); same id = nothing changes. */
  useWeights(weights: PartWeights | null): void {
    this.weights = weights ?? { id: BASE_WEIGHTS_ID, source: this.opts.source };
  }

  private async create(build: () => BuiltGraph, weights: PartWeights): Promise<EngineSession> {
    this.sessionsCreated++;
    reportPartLoad(this.label, 'graph');
    const t = performance.now();
    const graph = build();
    this.loadMs.graph += performance.now() - t;
    const lc = this.opts.loadCache;
    if (lc && !this.opts.weightHook && this.opts.runtime.device === 'cpu') return this.createCached(graph, weights, lc);
    return this.createPlain(graph, weights.source);
  }

  /** Through the load cache: open the stored optimized model, or build one and store it. */
  private async createCached(graph: BuiltGraph, weights: PartWeights, lc: PartLoadCache): Promise<EngineSession> {
    const runtime = this.opts.runtime;
    const bytes = graph.externalFiles.reduce((n, f) => n + f.byteLength, 0);
    const key = {
      checkpoint: lc.checkpoint,
      part: this.label,
      weights: weights.id,
      graph: `${graph.name}:${graphDigest(graph)}`,
      precision: runtime.precision,
      device: runtime.device,
      ortVersion: runtime.ortVersion,
    };
    const { session, outcome } = await lc.cache.session(key, bytes, {
      load: async (modelPath) => {
        reportPartLoad(this.label, 'session');
        const t = performance.now();
        const s = await runtime.createSessionFromFile(graph.name, modelPath, { preOptimized: true });
        this.loadMs.session += performance.now() - t;
        return s;
      },
      build: async (outDir, workDir) => {
        reportPartLoad(this.label, 'weights');
        let t = performance.now();
        const modelPath = await stageWeightsOnDisk(graph, weights.source, workDir, this.opts.weightHook);
        this.loadMs.weights += performance.now() - t;
        reportPartLoad(this.label, 'session');
        t = performance.now();
        const s = await runtime.createSessionFromFile(graph.name, modelPath, { saveOptimized: { modelPath: join(outDir, MODEL_FILE), weightsFile: WEIGHTS_FILE } });
        this.loadMs.session += performance.now() - t;
        return s;
      },
      buildPlain: () => this.createPlain(graph, weights.source),
    });
    this.cacheOutcomes[outcome]++;
    reportPartLoad(this.label, 'ready');
    return session;
  }

  private async createPlain(graph: BuiltGraph, source: WeightSource): Promise<EngineSession> {
    let t: number;
    reportPartLoad(this.label, 'weights');
    const bytes = graph.externalFiles.reduce((n, f) => n + f.byteLength, 0);
    const via = this.opts.weightsVia ?? 'auto';
    if (via === 'disk' || (via === 'auto' && bytes > DISK_STAGING_BYTES)) {
      const dir = await mkdtemp(join(this.opts.stagingDir ?? tmpdir(), 'easel-weights-'));
      try {
        t = performance.now();
        const modelPath = await stageWeightsOnDisk(graph, source, dir, this.opts.weightHook);
        this.loadMs.weights += performance.now() - t;
        reportPartLoad(this.label, 'session');
        t = performance.now();
        const session = await this.opts.runtime.createSessionFromFile(graph.name, modelPath);
        this.loadMs.session += performance.now() - t;
        reportPartLoad(this.label, 'ready');
        return session;
      } finally {
        // ORT has read (or mapped) the data; an unlinked mapped file stays valid until released.
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
    }
    t = performance.now();
    const external = await materializeWeights(graph, source, this.opts.weightHook);
    this.loadMs.weights += performance.now() - t;
    reportPartLoad(this.label, 'session');
    t = performance.now();
    const session = await this.opts.runtime.createSession(graph, external);
    this.loadMs.session += performance.now() - t;
    reportPartLoad(this.label, 'ready');
    return session;
  }

  /** Called before every run and prepare of this part (DiffusionModel frees other parts' sessions here). */
  beforeUse: (() => Promise<void>) | undefined;

  /** Runs the session for `shapeKey` (built by `build` on first use) and returns its outputs. */
  async run(shapeKey: string, build: () => BuiltGraph, feeds: Readonly<Record<string, FeedTensor>>): Promise<Record<string, Float32Array>> {
    const w = this.weights; // the weights at call time, even if beforeUse yields
    await this.beforeUse?.();
    return this.cache.use(`${w.id}|${shapeKey}`, () => this.create(build, w), (s) => s.run(feeds));
  }

  /** Creates the session for `shapeKey` now, so that the first real call does not pay for it. */
  async prepare(shapeKey: string, build: () => BuiltGraph): Promise<void> {
    const w = this.weights;
    await this.beforeUse?.();
    await this.cache.use(`${w.id}|${shapeKey}`, () => this.create(build, w), async () => undefined);
  }

  /** Whether any session of this part is open (holding its weights). */
  get loaded(): boolean {
    return this.cache.size > 0;
  }

  /** Frees this part's sessions (memory) while keeping it usable. */
  release(): Promise<void> {
    return this.cache.clear();
  }

  dispose(): Promise<void> {
    return this.cache.dispose();
  }
}
